"""The HTTP protocol of the Llama API as pure functions on plain values.

Nothing here does I/O or imports aiohttp or cattrs: building a request
description and turning a response into data or a typed error are testable
without an event loop. The retry policy lives in `_retry`, redirects in
`_redirects`; both are pure as well.
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from attrs import frozen

from ._retry import parse_retry_after
from .errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidArgumentError,
    RateLimitError,
    _status_error_class,
)
from .types.response import RateLimitInfo

T = TypeVar("T")

BODY_EXCERPT_CHARS = 1000
REQUEST_ID_HEADERS = ("x-request-id", "request-id")
_RATE_LIMIT_HEADERS = {
    "limit_requests": "x-ratelimit-limit-requests",
    "remaining_requests": "x-ratelimit-remaining-requests",
    "limit_tokens": "x-ratelimit-limit-tokens",
    "remaining_tokens": "x-ratelimit-remaining-tokens",
}
_MESSAGE_KEYS = ("message", "detail", "title", "error")


@frozen
class RequestSpec:
    """What to send: method, path relative to the base URL, and an optional body.

    The body is either *json* (serialized by the transport) or ready-made *content*
    bytes with their *content_type* (a multipart upload part). *headers* are sent
    with this request only, before the caller's ``extra_headers``.
    """

    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] | None = None


def unencodable_body(method: str, url: str, exc: Exception) -> InvalidArgumentError:
    """The error for a request body the JSON encoder refused with *exc*.

    A value JSON has no form for (``extra_body={"at": datetime.now()}``), or a
    string with a lone surrogate (``"\\udc00"``, which ``json.loads`` makes of
    JSON that escapes half a pair), which UTF-8 cannot encode. The message
    names the character, never the text around it.
    """
    if isinstance(exc, UnicodeEncodeError) and isinstance(exc.object, str):
        reason = (
            f"a string in it holds a lone surrogate, U+{ord(exc.object[exc.start]):04X}, "
            "which UTF-8 cannot encode"
        )
    else:
        reason = str(exc)
    return InvalidArgumentError(
        f"{method} {url} was not sent: its body cannot be encoded as JSON: {reason}"
    )


def path_segment(value: object, name: str) -> str:
    """Percent-encode *value* as exactly one URL path segment.

    ``/``, ``?`` and ``#`` are encoded, so an id can never step into another
    path. The empty string and the dot segments are refused because a server
    or proxy would normalise them into a different resource.
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    if value in ("", ".", ".."):
        raise InvalidArgumentError(f"{name} must be a non-empty id, not {value!r}")
    return quote(value, safe="")


def join_url(base_url: str, path: str) -> str:
    """Append a relative *path* to a base URL that ends in ``/``."""
    return base_url + path


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """Parse the ``x-ratelimit-*`` headers, or ``None`` when none was sent."""
    values: dict[str, int | None] = {}
    seen = False
    for field, header in _RATE_LIMIT_HEADERS.items():
        raw = headers.get(header)
        if raw is None:
            values[field] = None
            continue
        seen = True
        try:
            values[field] = int(raw)
        except ValueError:
            values[field] = None
    return RateLimitInfo(**values) if seen else None


def find_request_id(headers: Mapping[str, str]) -> str | None:
    """The server's request id header, if it sent one."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def excerpt(raw: bytes) -> str:
    """A bounded, printable excerpt of a response body."""
    text = raw[: BODY_EXCERPT_CHARS * 4].decode("utf-8", "replace")
    if len(text) > BODY_EXCERPT_CHARS:
        return text[:BODY_EXCERPT_CHARS] + "…"
    return text


def decode_error_body(raw: bytes) -> object:
    """The body of an error response: its JSON, else a bounded text excerpt."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return excerpt(raw)


def error_message(status: int, body: object) -> str:
    """A readable message for an error response."""
    found = _message_from(body)
    if found:
        return found
    if isinstance(body, str) and body.strip():
        return body.strip()
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP status {status}"


def _message_from(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, Mapping):
            nested = _message_from(value)
            if nested:
                return nested
    return None


def status_error(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    method: str,
    url: str,
    now: float,
) -> APIStatusError:
    """The typed exception for an error response."""
    body = decode_error_body(raw)
    message = error_message(status, body)
    cls = _status_error_class(status)
    common: dict[str, Any] = {
        "status_code": status,
        "body": body,
        "headers": headers,
        "request_id": find_request_id(headers),
        "method": method,
        "url": url,
    }
    if cls is RateLimitError:
        return RateLimitError(
            message,
            retry_after=parse_retry_after(headers, now),
            rate_limit=parse_rate_limit(headers),
            **common,
        )
    return cls(message, **common)


def decode_json(raw: bytes) -> Any:
    """Decode a JSON body sent as UTF-8 (the API's encoding) without sniffing for others.

    ``json.loads`` on bytes first guesses among UTF-8, -16 and -32; decoding UTF-8
    up front and calling the decoder directly skips that on every response.
    """
    if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark: let json sort it out
        return json.loads(raw)
    return _decode(raw.decode())


_decode = json.JSONDecoder().decode


def parse_success(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    cls: type[T],
    structure: Callable[[Any, type[T]], T],
    loads: Callable[[bytes], Any] = decode_json,
    *,
    method: str,
    url: str,
) -> T:
    """Decode a 2xx JSON body and structure it as *cls*, or raise `APIResponseValidationError`."""
    try:
        data = loads(raw)
    except ValueError as exc:
        raise invalid_response(
            f"the response to {method} {url} is not valid JSON ({exc})",
            status,
            headers,
            excerpt(raw),
            method,
            url,
        ) from exc
    try:
        return structure(data, cls)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise invalid_response(
            f"the response to {method} {url} is not a valid {cls.__name__}: {exc}",
            status,
            headers,
            data,
            method,
            url,
        ) from exc


def invalid_response(
    message: str,
    status: int,
    headers: Mapping[str, str],
    body: object,
    method: str | None = None,
    url: str | None = None,
) -> APIResponseValidationError:
    """The error for a response that arrived but cannot be read, with its request id."""
    return APIResponseValidationError(
        message,
        status_code=status,
        body=body,
        headers=headers,
        request_id=find_request_id(headers),
        method=method,
        url=url,
    )
