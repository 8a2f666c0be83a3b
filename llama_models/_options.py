"""Per-call options and derived-client settings, each declared once.

Every method takes the options of `RequestOptions` as keyword arguments
(``**options: Unpack[RequestOptions]``, PEP 692), methods that send a JSON body
those of `BodyOptions`, and streamed chat completions those of `StreamOptions`.
A key that is left out is *not given*: the client's setting applies. That is
how ``timeout=None`` can mean "no overall limit" while leaving ``timeout`` out
means "the client's timeout".

`resolve_call` turns the options of one call into what the transport needs;
it is pure and runs before anything is sent, so a bad option fails with
`InvalidArgumentError` and no request is made.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode

from .errors import InvalidArgumentError

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

if TYPE_CHECKING:
    import cattrs

    from ._config import ClientConfig
    from ._protocol import RequestSpec

#: What a call needs of its options: its budget (``None``: no overall limit), retry limit,
#: extra headers (checked) and query string.
CallSettings = tuple[float | None, int, Mapping[str, str] | None, str]

__all__ = [
    "CLIENT_KEYS",
    "CallSettings",
    "BodyOptions",
    "ClientOptions",
    "RequestOptions",
    "StreamOptions",
    "Unpack",
    "adopt_extra_body",
    "check_keys",
    "encode_query",
    "resolve_call",
    "validate_query",
]


class RequestOptions(TypedDict, total=False):
    """The options every call takes; a key left out means the client's setting.

    Attributes:
        timeout: seconds for the whole call, retries included (for a stream:
            until its response starts); ``None`` for no overall limit (the
            connect, read and idle limits still apply).
        max_retries: how many times this call may be retried.
        extra_headers: headers to add to this request only.
        extra_query: query parameters to add to this request's URL, after the
            client's ``default_query``.
    """

    timeout: float | None
    max_retries: int
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, str] | None


class BodyOptions(RequestOptions, total=False):
    """`RequestOptions`, and ``extra_body`` for calls that send a JSON body.

    Attributes:
        extra_body: fields to add to the JSON body, for API features newer than
            this SDK. A field an argument sets is refused, and a field that an
            argument could set is checked as that argument is.
    """

    extra_body: Mapping[str, Any] | None


class StreamOptions(BodyOptions, total=False):
    """`BodyOptions`, and the limits of a stream.

    Attributes:
        idle_timeout: seconds to wait for the next event (keep-alive comments
            do not count); the client's ``idle_timeout`` when ``None``;
            ``math.inf`` waits forever.
        stream_timeout: seconds the whole stream may take, from the request to
            its last event; no limit when ``None``.
    """

    idle_timeout: float | None
    stream_timeout: float | None


class ClientOptions(TypedDict, total=False):
    """The settings `AsyncLlamaClient.with_options` may change; a key left out keeps the parent's.

    The connection pool (``max_connections``, ``proxy``, ``ssl``,
    ``http_session``) and the credentials (``api_key``, ``base_url``) belong to
    the pool the derived client shares, so they are not among them: for other
    ones, create a new client.
    """

    timeout: float | None
    connect_timeout: float
    read_timeout: float | None
    idle_timeout: float | None
    max_retries: int
    default_headers: Mapping[str, str] | None
    default_query: Mapping[str, str] | None
    max_response_bytes: int
    log_bodies: bool
    converter: cattrs.Converter | None


_CALL_KEYS = frozenset(StreamOptions.__optional_keys__)
CLIENT_KEYS = frozenset(ClientOptions.__optional_keys__)


def check_keys(options: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    """Refuse a keyword that is not among *allowed*, with the `TypeError` Python gives.

    The options arrive as ``**options``, so Python itself accepts any keyword;
    a misspelt one (which a type checker would flag) must still not be ignored.
    """
    unknown = options.keys() - allowed
    if unknown:
        raise TypeError(
            f"{what} got an unexpected keyword argument {min(unknown)!r}; "
            f"the options are {', '.join(sorted(allowed))}"
        )


def validate_query(query: object, name: str) -> dict[str, str]:
    """Check query parameters: a mapping of str to str."""
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise InvalidArgumentError(f"{name} must be a mapping of str to str")
    for key, value in query.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"{name}: {key!r} is not a valid parameter name")
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"{name}: the value of {key!r} must be a str, not {type(value).__name__}"
            )
    return dict(query)


def encode_query(query: Mapping[str, str]) -> str:
    """The query string of *query* (``""`` for none), percent-encoded."""
    return urlencode(query) if query else ""


#: The optional arguments of ``chat.completions.create`` that a field of ``extra_body`` may
#: stand in for (a batch body's other fields go to ``extra_body`` as they are).
CHAT_OPTIONAL_ARGUMENTS = frozenset(
    {
        "max_completion_tokens",
        "temperature",
        "top_p",
        "top_k",
        "repetition_penalty",
        "response_format",
        "tools",
        "tool_choice",
        "user",
    }
)


def adopt_extra_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a chat request with each ``extra_body`` field an argument left unset moved into it.

    So ``extra_body={"temperature": 7}`` is checked as ``temperature=7`` is; a
    field an argument did set stays in ``extra_body``, to be refused there.
    """
    extra_body = fields.get("extra_body")
    if not isinstance(extra_body, Mapping) or CHAT_OPTIONAL_ARGUMENTS.isdisjoint(extra_body):
        return fields
    adopted = {
        name: extra_body[name]
        for name in CHAT_OPTIONAL_ARGUMENTS & extra_body.keys()
        if fields.get(name) is None and extra_body[name] is not None
    }
    if not adopted:
        return fields
    rest = {key: value for key, value in extra_body.items() if key not in adopted}
    return {**fields, **adopted, "extra_body": rest}


def resolve_call(
    options: Mapping[str, Any], spec: RequestSpec, config: ClientConfig
) -> CallSettings:
    """The `CallSettings` of one call: the client's (*config*), with *options* applied.

    Everything is checked here, before anything is sent: an unknown option, a
    bad value, and ``extra_body`` on a request without a JSON body (*spec*).
    """
    from ._config import validate_count, validate_headers, validate_optional_timeout

    check_keys(options, _CALL_KEYS, "the call")
    if spec.json is None and options.get("extra_body") is not None:
        raise InvalidArgumentError(
            f"extra_body applies to calls with a JSON body, not to {spec.method} {spec.path}"
        )
    timeout = config.timeout
    if "timeout" in options:
        timeout = validate_optional_timeout(options["timeout"], "timeout")
    max_retries = config.max_retries
    if "max_retries" in options:
        max_retries = validate_count(options["max_retries"], "max_retries")
    headers = options.get("extra_headers")
    if headers is not None:
        headers = validate_headers(headers, "extra_headers")
    query = config.default_query
    extra_query = options.get("extra_query")
    if extra_query is not None:
        query = {**query, **validate_query(extra_query, "extra_query")}
    return timeout, max_retries, headers, encode_query(query)
