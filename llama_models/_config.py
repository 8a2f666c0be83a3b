"""Client settings: resolved once at construction, validated, frozen.

Resolution order for every setting: explicit argument, then environment, then
default. Nothing here does I/O or imports aiohttp.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from attrs import frozen

from ._network import ssl_context, validate_proxy
from ._options import validate_query
from .errors import InvalidArgumentError

DEFAULT_BASE_URL = "https://api.llama.com/v1"
DEFAULT_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 60.0

API_KEY_ENV = "LLAMA_API_KEY"
#: ``LLAMA_LOG``, and the official SDK's name for it (see `_logenv`).
LOG_ENVS = ("LLAMA_LOG", "LLAMA_API_CLIENT_LOG")
BASE_URL_ENVS = ("LLAMA_API_BASE_URL", "LLAMA_API_CLIENT_BASE_URL")

# Headers the transport owns: letting a caller set them would break framing or auth.
_RESERVED_HEADERS = frozenset({"authorization", "host", "content-length", "transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
_API_KEY = re.compile(r"[\x21-\x7e]+")


class Secret:
    """A string that never shows itself in ``str`` or ``repr``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'<redacted>'"

    __str__ = __repr__


class RedactedStr(str):
    """A header value that is sent as itself but shows as ``'<redacted>'`` in any repr.

    Debuggers, ``pytest --showlocals`` and ``traceback`` with ``capture_locals`` print the
    repr of every local, including the headers dict that carries the API key.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


@frozen(kw_only=True)
class ClientConfig:
    """Every setting of a client, validated."""

    api_key: Secret
    base_url: str
    timeout: float | None
    connect_timeout: float
    read_timeout: float | None
    max_retries: int
    max_connections: int
    default_headers: Mapping[str, str]
    max_response_bytes: int
    allow_insecure_http: bool
    log_bodies: bool
    proxy: str | None
    idle_timeout: float | None = None
    # A cattrs.Converter made by make_converter(), or None for the default one.
    converter: Any = None
    # A RateLimit, or None for none.
    rate_limit: Any = None
    # Request hooks (see _hooks), checked by the client, and whether they see bodies.
    hooks: tuple[Any, ...] = ()
    hook_bodies: bool = False
    default_query: Mapping[str, str] = MappingProxyType({})
    # An ssl.SSLContext, or None for aiohttp's default verification.
    ssl: Any = None


def resolve_config(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    connect_timeout: float,
    read_timeout: float | None,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
    max_response_bytes: int,
    allow_insecure_http: bool,
    log_bodies: bool,
    idle_timeout: float | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    converter: Any = None,
    rate_limit: Any = None,
    environ: Mapping[str, str] | None = None,
    default_query: Mapping[str, str] | None = None,
    proxy: str | Literal[False] | None = None,
    ssl: Any = None,
) -> ClientConfig:
    """Resolve arguments against the environment and validate all of them."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in LOG_ENVS):  # logging is imported only when asked for
        from ._logenv import configure_logging

        configure_logging(env)
    if api_key is None:
        api_key = env.get(API_KEY_ENV) or None
    if base_url is None:
        base_url = next((env[name] for name in BASE_URL_ENVS if env.get(name)), DEFAULT_BASE_URL)
    base_url = validate_base_url(base_url, allow_insecure_http=allow_insecure_http)
    return ClientConfig(
        api_key=Secret(validate_api_key(api_key)),
        base_url=base_url,
        timeout=validate_optional_timeout(timeout, "timeout"),
        connect_timeout=validate_timeout(connect_timeout, "connect_timeout"),
        read_timeout=(
            None if read_timeout is None else validate_timeout(read_timeout, "read_timeout")
        ),
        max_retries=validate_count(max_retries, "max_retries"),
        max_connections=validate_count(max_connections, "max_connections", minimum=1),
        default_headers=MappingProxyType(validate_headers(default_headers, "default_headers")),
        max_response_bytes=validate_count(max_response_bytes, "max_response_bytes", minimum=1),
        allow_insecure_http=bool(allow_insecure_http),
        log_bodies=bool(log_bodies),
        proxy=environment_proxy(base_url, env) if proxy is None else validate_proxy(proxy),
        idle_timeout=validate_idle_timeout(idle_timeout),
        converter=validate_converter(converter),
        rate_limit=validate_rate_limit(rate_limit),
        default_query=MappingProxyType(validate_query(default_query, "default_query")),
        ssl=None if ssl is None else ssl_context(ssl),
    )


def validate_rate_limit(rate_limit: Any) -> Any:
    """A `RateLimit` for the client, or ``None``; anything else is refused."""
    if rate_limit is None:
        return None
    from ._ratelimit._settings import RateLimit

    if not isinstance(rate_limit, RateLimit):
        raise InvalidArgumentError(
            f"rate_limit must be a llama_models.RateLimit, not {type(rate_limit).__name__}"
        )
    return rate_limit


def validate_converter(converter: Any) -> Any:
    """A converter for the client, or ``None`` for the default one; anything else is refused."""
    if converter is None:
        return None
    # Checked by name, so that an unused option does not import cattrs.
    if not any(
        cls.__module__.startswith("cattrs") and cls.__name__ == "BaseConverter"
        for cls in type(converter).__mro__
    ):
        raise InvalidArgumentError(
            "converter must be a cattrs converter made by llama_models.make_converter(), "
            f"not {type(converter).__name__}"
        )
    return converter


def environment_proxy(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy the environment asks for *url* (``HTTPS_PROXY``, ``NO_PROXY``...), if any.

    Resolved once per client: aiohttp's ``trust_env`` would look it up, and read
    ``~/.netrc``, in a worker thread on every request.
    """
    # Sorted, so that a lower-case variable wins over its upper-case twin, as in urllib.
    proxies = {
        key.lower()[: -len("_proxy")]: value
        for key, value in sorted(env.items())
        if key.lower().endswith("_proxy") and value
    }
    if not proxies:
        return None
    parts = urlsplit(url)
    if _bypasses_proxy(parts.hostname or "", proxies.get("no", "")):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def _bypasses_proxy(host: str, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (``*`` or comma-separated domain suffixes) covers *host*."""
    if no_proxy.strip() == "*":
        return True
    host = host.lower()
    for entry in no_proxy.split(","):
        name = entry.strip().lstrip(".").lower()
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


#: How the messages of `validate_api_key` and `validate_base_url` name the settings they are
#: about; the command line passes its own table, which names its flags instead.
ARGUMENT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "api_key": "api_key",
        "base_url": "base_url",
        "allow_insecure_http": "allow_insecure_http=True",
    }
)


def validate_api_key(api_key: object, *, names: Mapping[str, str] = ARGUMENT_NAMES) -> str:
    """Return *api_key* if it can be sent as a bearer token; the message never echoes it."""
    if api_key is None:
        raise InvalidArgumentError(
            f"no API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
        )
    name = names["api_key"]
    if not isinstance(api_key, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(api_key).__name__}")
    if not api_key:
        raise InvalidArgumentError(f"{name} is empty")
    if not _API_KEY.fullmatch(api_key):
        raise InvalidArgumentError(
            f"{name} must be printable ASCII without whitespace "
            "(check for a stray newline or quote from copy and paste)"
        )
    return api_key


def validate_base_url(
    base_url: object, *, allow_insecure_http: bool, names: Mapping[str, str] = ARGUMENT_NAMES
) -> str:
    """Return *base_url* normalised to end in ``/``, or raise `InvalidArgumentError`."""
    name = names["base_url"]
    if not isinstance(base_url, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url.strip())
        hostname = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the validation
    except ValueError as exc:
        raise InvalidArgumentError(f"{name} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise InvalidArgumentError(
            f"{name} must be an absolute http(s) URL such as https://api.llama.com/v1"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidArgumentError(
            f"{name} must not contain credentials; pass the key as {names['api_key']} instead"
        )
    if parts.query or parts.fragment:
        raise InvalidArgumentError(f"{name} must not have a query string or fragment")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(hostname):
        raise InvalidArgumentError(
            f"{name} uses plain http to a non-loopback host, which would send the API key "
            f"unencrypted; use https, or pass {names['allow_insecure_http']} if you really mean it"
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(hostname: str) -> bool:
    """Whether *hostname* names this machine (``localhost``, 127.0.0.0/8 or ``::1``)."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def validate_timeout(value: object, name: str) -> float:
    """Return *value* as seconds if it is a positive, finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{name} must be a number of seconds, not {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise InvalidArgumentError(f"{name} must be positive and finite, not {value!r}")
    return float(value)


def validate_optional_timeout(value: object, name: str) -> float | None:
    """Seconds for a whole call, or ``None`` for no overall limit."""
    if value is None:
        return None
    return validate_timeout(value, name)


def validate_idle_timeout(
    value: object, name: str = "idle_timeout", *, unlimited: str = "math.inf"
) -> float | None:
    """Seconds a stream may go without an event; ``None`` or ``math.inf`` for no limit.

    *unlimited* is how the message spells no limit (the command line says ``inf``).
    """
    if value is None or value == math.inf:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{name} must be a number of seconds, not {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise InvalidArgumentError(
            f"{name} must be a positive number of seconds, or {unlimited} for no limit, not {value!r}"
        )
    return float(value)


def validate_count(value: object, name: str, *, minimum: int = 0) -> int:
    """Refuse *value* unless it is an int (not a bool) of at least *minimum*."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, not {value!r}")
    return value


def validate_headers(headers: Mapping[str, str] | None, name: str) -> dict[str, str]:
    """Check header names and values so a bad one fails here, not on the wire."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidArgumentError(f"{name} must be a mapping of str to str")
    checked: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            raise InvalidArgumentError(f"{name}: {key!r} is not a valid header name")
        if key.lower() in _RESERVED_HEADERS:
            raise InvalidArgumentError(
                f"{name}: the {key} header is set by the client and cannot be overridden"
            )
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise InvalidArgumentError(
                f"{name}: the value of {key!r} must be printable ASCII without line breaks"
            )
        checked[key] = value
    return checked
