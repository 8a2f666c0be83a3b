"""The HTTP protocol of the Llama API as pure functions on plain values.

Nothing here does I/O or imports aiohttp or cattrs: building a request
description, turning a response into data or a typed error, reading
``Retry-After`` and deciding whether a retry is allowed are all testable
without an event loop.
"""

from __future__ import annotations

import enum
import http
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from attrs import frozen

from .errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidArgumentError,
    RateLimitError,
    _status_error_class,
)
from .types.response import RateLimitInfo

T = TypeVar("T")

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: The longest server-requested wait the client will sleep through.
MAX_SERVER_WAIT = 60.0
MAX_REDIRECTS = 5
BODY_EXCERPT_CHARS = 1000

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({408, 409, 429})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
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
    """What to send: method, path relative to the base URL, optional JSON body."""

    method: str
    path: str
    json: Any = None


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


class Stage(enum.Enum):
    """How far a failed attempt got, which decides whether it may be retried."""

    #: Nothing reached the server (connection refused, DNS, connect timeout).
    BEFORE_SEND = "before_send"
    #: The request may have reached the server (dropped connection, read timeout).
    AFTER_SEND = "after_send"
    #: A local mistake that a retry cannot fix (TLS certificate, bad URL).
    LOCAL = "local"


def failure_is_retryable(method: str, stage: Stage) -> bool:
    """Whether a request that failed without a response may be sent again.

    A POST is only resent when the server cannot have acted on it.
    """
    if stage is Stage.LOCAL:
        return False
    return stage is Stage.BEFORE_SEND or method in IDEMPOTENT_METHODS


def status_is_retryable(method: str, status: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this *status* may be retried.

    ``x-should-retry`` from the server wins. Otherwise idempotent requests retry
    408, 409, 429 and 5xx; other requests retry only 429, which the server sends
    before doing any work.
    """
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    if method not in IDEMPOTENT_METHODS:
        return status == 429
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the server asked for, in seconds, or ``None`` if it asked for none.

    Reads ``retry-after-ms``, then ``Retry-After`` as seconds or as an HTTP date
    (relative to *now*, Unix seconds). Unparseable values count as absent.
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return _finite(float(value)) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _finite(float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # slow to import; dates are rare

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return when.timestamp() - now


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return value


def backoff_delay(retries_made: int, jitter: float) -> float:
    """Exponential backoff: 0.5 s doubling to 8 s, scaled by 75-100 % jitter.

    *jitter* is a random number in ``[0, 1)``.
    """
    return min(INITIAL_RETRY_DELAY * 2.0**retries_made, MAX_RETRY_DELAY) * (1.0 - 0.25 * jitter)


def plan_retry(
    *,
    retries_made: int,
    max_retries: int,
    server_wait: float | None,
    remaining: float,
    jitter: float,
) -> float | None:
    """How long to wait before the next attempt, or ``None`` to give up now.

    A server-requested wait is used as given, but one longer than
    `MAX_SERVER_WAIT` or than the time the caller has left is not slept: the
    error is raised at once instead. The same holds for a backoff that would
    outlast the deadline.
    """
    if retries_made >= max_retries:
        return None
    if server_wait is not None and server_wait > 0:
        if server_wait > MAX_SERVER_WAIT or server_wait >= remaining:
            return None
        return server_wait
    delay = backoff_delay(retries_made, jitter)
    return delay if delay < remaining else None


def redirect_target(
    status: int, headers: Mapping[str, str], url: str, method: str
) -> tuple[str, str] | None:
    """Where a redirect response points and with which method, or ``None``.

    303, and 301/302 after a non-GET, turn into a GET without a body, as
    browsers do; 307 and 308 keep the method and body.
    """
    if status not in REDIRECT_STATUSES:
        return None
    location = headers.get("location")
    if not location:
        return None
    target = urljoin(url, location)
    if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
        method = "GET"
    return target, method


def origin(url: str) -> tuple[str, str, int | None]:
    """The (scheme, host, port) of *url*, with default ports made explicit."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


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


def parse_success(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    structure: Callable[[Any], T],
    *,
    type_name: str,
    method: str,
    url: str,
) -> T:
    """Decode a 2xx JSON body and structure it, or raise `APIResponseValidationError`."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _invalid(
            f"the response to {method} {url} is not valid JSON ({exc})",
            status,
            headers,
            excerpt(raw),
            method,
            url,
        ) from exc
    try:
        return structure(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _invalid(
            f"the response to {method} {url} is not a valid {type_name}: {exc}",
            status,
            headers,
            data,
            method,
            url,
        ) from exc


def _invalid(
    message: str, status: int, headers: Mapping[str, str], body: object, method: str, url: str
) -> APIResponseValidationError:
    return APIResponseValidationError(
        message,
        status_code=status,
        body=body,
        headers=headers,
        request_id=find_request_id(headers),
        method=method,
        url=url,
    )
