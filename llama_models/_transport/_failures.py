"""How an attempt fails: aiohttp's exceptions mapped to public errors, and capped reads."""

from __future__ import annotations

from typing import NoReturn

import aiohttp

from .._protocol import find_request_id
from .._retry import Stage
from ..errors import APIConnectionError, APIError, APIResponseValidationError, APITimeoutError


class AttemptFailed(Exception):
    """An attempt produced no usable response; carries the public error and the stage."""

    def __init__(self, error: APIError, stage: Stage) -> None:
        super().__init__(error.message)
        self.error = error
        self.stage = stage


def map_client_error(
    exc: aiohttp.ClientError,
    method: str,
    url: str,
    *,
    connect_timeout: float,
    read_timeout: float | None,
) -> NoReturn:
    """Raise the public error for an aiohttp failure, with the stage it happened at."""
    stage = Stage.AFTER_SEND
    error: APIError
    if isinstance(exc, aiohttp.ClientSSLError):
        stage = Stage.LOCAL
        error = APIConnectionError(f"TLS failure talking to {url}: {exc}", method=method, url=url)
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        stage = Stage.BEFORE_SEND
        error = APITimeoutError(
            f"connecting for {method} {url} timed out after {connect_timeout:g} s",
            method=method,
            url=url,
        )
    elif isinstance(exc, aiohttp.ClientConnectorError):
        stage = Stage.BEFORE_SEND
        error = APIConnectionError(
            f"cannot connect for {method} {url}: {exc.os_error.strerror or exc}",
            method=method,
            url=url,
        )
    elif isinstance(exc, aiohttp.SocketTimeoutError):
        error = APITimeoutError(
            f"{method} {url}: the server sent nothing for {read_timeout or 0:g} s (read_timeout)",
            method=method,
            url=url,
        )
    elif isinstance(exc, aiohttp.ServerTimeoutError):  # pragma: no cover - no total timeout
        error = APITimeoutError(f"{method} {url} timed out: {exc}", method=method, url=url)
    elif isinstance(exc, aiohttp.InvalidURL):
        stage = Stage.LOCAL
        error = APIConnectionError(f"invalid URL {url}", method=method, url=url)
    else:
        error = APIConnectionError(
            f"connection error during {method} {url}: {_describe(exc)}", method=method, url=url
        )
    raise AttemptFailed(error, stage) from exc


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


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
