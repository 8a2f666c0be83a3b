"""Settings of a derived client (`with_options`), and requests to endpoints the SDK does not wrap.

Pure functions: they check everything before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote

import attrs

from ._config import (
    ClientConfig,
    validate_converter,
    validate_count,
    validate_headers,
    validate_idle_timeout,
    validate_optional_timeout,
    validate_timeout,
)
from ._options import CLIENT_KEYS, check_keys, validate_query
from ._protocol import RequestSpec
from .errors import InvalidArgumentError

__all__ = ["custom_path", "custom_spec", "derived_config"]

# What a path may hold as it is; anything else is percent-encoded (a '%' is kept, so that
# a path the caller encoded is sent as it is).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_CONTROL = re.compile(r"[\x00-\x20\x7f\\?#]")


def derived_config(config: ClientConfig, options: Mapping[str, Any]) -> ClientConfig:
    """*config* with the settings in *options* (checked as the client checks them) replaced."""
    check_keys(options, CLIENT_KEYS, "with_options()")
    changes: dict[str, Any] = {}
    if "timeout" in options:
        changes["timeout"] = validate_optional_timeout(options["timeout"], "timeout")
    if "connect_timeout" in options:
        changes["connect_timeout"] = validate_timeout(options["connect_timeout"], "connect_timeout")
    if "read_timeout" in options:
        value = options["read_timeout"]
        changes["read_timeout"] = None if value is None else validate_timeout(value, "read_timeout")
    if "idle_timeout" in options:
        changes["idle_timeout"] = validate_idle_timeout(options["idle_timeout"])
    if "max_retries" in options:
        changes["max_retries"] = validate_count(options["max_retries"], "max_retries")
    if "max_response_bytes" in options:
        changes["max_response_bytes"] = validate_count(
            options["max_response_bytes"], "max_response_bytes", minimum=1
        )
    if "log_bodies" in options:
        changes["log_bodies"] = bool(options["log_bodies"])
    if "converter" in options:
        changes["converter"] = validate_converter(options["converter"])
    if options.get("default_headers") is not None:
        headers = validate_headers(options["default_headers"], "default_headers")
        changes["default_headers"] = MappingProxyType({**config.default_headers, **headers})
    if options.get("default_query") is not None:
        query = validate_query(options["default_query"], "default_query")
        changes["default_query"] = MappingProxyType({**config.default_query, **query})
    return attrs.evolve(config, **changes)


def custom_path(path: object) -> str:
    """*path* as a path under the base URL, percent-encoded; one that could leave it is refused.

    A leading ``/`` is read as relative to the base URL (``"/models"`` is
    ``"models"``), as in the other SDKs. Refused: another scheme or host, a
    ``.`` or ``..`` segment (also percent-encoded), a backslash, a query or a
    fragment (use ``extra_query``), whitespace and control characters.
    """
    if not isinstance(path, str):
        raise InvalidArgumentError(f"path must be a str, not {type(path).__name__}")
    relative = path[1:] if path.startswith("/") else path
    if relative.startswith("/") or ":" in relative.split("/", 1)[0]:
        raise InvalidArgumentError(
            f"path must be relative to base_url, such as 'models', not {path!r}"
        )
    if _CONTROL.search(relative):
        raise InvalidArgumentError(
            f"path {path!r} may not hold whitespace, a backslash, '?' or '#'; "
            "pass query parameters as extra_query"
        )
    for segment in relative.split("/"):
        decoded = unquote(segment).replace("\\", "/").split("/")
        if any(piece in (".", "..") for piece in decoded):
            raise InvalidArgumentError(f"path {path!r} may not hold a '.' or '..' segment")
    return quote(relative, safe=_PATH_SAFE)


def custom_spec(method: str, path: object, body: object, extra_body: object = None) -> RequestSpec:
    """The request of `AsyncLlamaClient.get` or ``post``."""
    relative = custom_path(path)
    if body is None and extra_body is None:
        return RequestSpec(method, relative)
    if body is not None and not isinstance(body, Mapping):
        raise InvalidArgumentError(f"body must be a dict, not {type(body).__name__}")
    from ._chat_request import merge_extra

    json = merge_extra(dict(body or {}), extra_body)  # type: ignore[arg-type]
    return RequestSpec(method, relative, json)
