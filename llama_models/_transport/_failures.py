"""How an attempt fails: aiohttp's exceptions mapped to public errors, and capped reads."""

from __future__ import annotations

from typing import NoReturn

import aiohttp

from .._protocol import decode_error_body, excerpt, find_request_id, invalid_response
from .._retry import Stage
from ..errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ClientStateError,
)


class AttemptFailed(Exception):
    """An attempt produced no usable response; carries the public error and the stage."""

    def __init__(self, error: APIError, stage: Stage) -> None:
        super().__init__(error.message)
        self.error = error
        self.stage = stage


def map_attempt_error(
    exc: Exception,
    method: str,
    url: str,
    *,
    session_closed: bool,
    connect_timeout: float,
    read_timeout: float | None,
) -> NoReturn:
    """Raise the public error for a failed attempt, with the stage it happened at.

    Our own errors pass through. A session closed under the call makes aiohttp fail
    in assorted ways (RuntimeError, or AttributeError in older versions); they all
    mean the same thing. Anything else unexpected is a bug and is re-raised as is.
    """
    if isinstance(exc, (AttemptFailed, ClientStateError)):
        raise exc
    if session_closed:
        raise ClientStateError("the HTTP session was closed during the call") from exc
    if isinstance(exc, aiohttp.ClientError):
        error, stage = _client_error(exc, method, url, connect_timeout, read_timeout)
    elif isinstance(exc, ValueError):  # e.g. a caller session with trust_env and a ~/.netrc entry
        error, stage = (
            APIConnectionError(
                f"aiohttp refused to send {method} {url}: {exc}", method=method, url=url
            ),
            Stage.LOCAL,
        )
    elif isinstance(exc, OSError):  # pragma: no cover - aiohttp wraps these; a safety net
        error, stage = (
            APIConnectionError(
                f"connection error during {method} {url}: {exc}", method=method, url=url
            ),
            Stage.AFTER_SEND,
        )
    else:
        raise exc
    raise AttemptFailed(error, stage) from exc


def _client_error(
    exc: aiohttp.ClientError,
    method: str,
    url: str,
    connect_timeout: float,
    read_timeout: float | None,
) -> tuple[APIError, Stage]:
    """The public error for an aiohttp failure, and how far the attempt got."""
    if isinstance(exc, aiohttp.ClientSSLError):
        return APIConnectionError(
            f"TLS failure talking to {url}: {exc}", method=method, url=url
        ), Stage.LOCAL
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            f"connecting for {method} {url} timed out after {connect_timeout:g} s",
            method=method,
            url=url,
        ), Stage.BEFORE_SEND
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"cannot connect for {method} {url}: {exc.os_error.strerror or exc}",
            method=method,
            url=url,
        ), Stage.BEFORE_SEND
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return APITimeoutError(
            f"{method} {url}: the server sent nothing for {read_timeout or 0:g} s (read_timeout)",
            method=method,
            url=url,
        ), Stage.AFTER_SEND
    if isinstance(exc, aiohttp.ServerTimeoutError):  # pragma: no cover - other timeouts
        return APITimeoutError(
            f"{method} {url} timed out: {exc}", method=method, url=url
        ), Stage.AFTER_SEND
    if isinstance(exc, aiohttp.InvalidURL):  # pragma: no cover - URLs are validated up front
        return APIConnectionError(f"invalid URL {url}", method=method, url=url), Stage.LOCAL
    return APIConnectionError(
        f"connection error during {method} {url}: {_describe(exc)}", method=method, url=url
    ), Stage.AFTER_SEND


async def read_capped(resp: aiohttp.ClientResponse, cap: int, method: str, url: str) -> bytes:
    """Read a body of unknown or compressed length, refusing more than *cap* bytes."""
    length = resp.content_length
    if length is not None and length > cap:
        too_large(resp, cap, method, url)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > cap:
            too_large(resp, cap, method, url)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(resp: aiohttp.ClientResponse, cap: int, method: str, url: str) -> NoReturn:
    """Drop the connection and raise: the body is over ``max_response_bytes``."""
    resp.close()
    raise AttemptFailed(
        APIResponseValidationError(
            f"the response to {method} {url} is larger than max_response_bytes ({cap} bytes)",
            status_code=resp.status,
            body=None,
            headers=resp.headers,
            request_id=find_request_id(resp.headers),
            method=method,
            url=url,
        ),
        Stage.LOCAL,
    )


def not_a_stream(resp: aiohttp.ClientResponse, raw: bytes, url: str) -> NoReturn:
    """Raise: a stream request was answered with something other than server-sent events.

    A proxy's or gateway's HTML page, typically; reading it as events would
    only report a stream cut off in the middle of one.
    """
    kind = resp.headers.get("Content-Type") or "no Content-Type"
    method = resp.method
    raise AttemptFailed(
        invalid_response(
            f"{method} {url}: the answer to a stream request is {kind!r}, not "
            f"text/event-stream (a proxy or gateway in between?): {excerpt(raw)!r}",
            resp.status,
            resp.headers,
            decode_error_body(raw),
            method,
            url,
        ),
        Stage.LOCAL,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
