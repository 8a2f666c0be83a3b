"""The errors a stream raises, worded from its response and the events it got. No I/O."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import (
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    ClientStateError,
    StreamInterruptedError,
)

if TYPE_CHECKING:
    from ._transport._stream import LiveBody

__all__ = [
    "client_closed",
    "events",
    "interrupted",
    "invalid",
    "read_failure",
    "server_error",
    "timed_out",
]


def events(count: int) -> str:
    """``"1 event"``, ``"2 events"``: how many events a stream had read."""
    return f"{count} event" if count == 1 else f"{count} events"


def interrupted(body: LiveBody, why: str, count: int) -> StreamInterruptedError:
    """The stream ended or was cut before its ``complete`` event."""
    return StreamInterruptedError(
        f"{body.method} {body.url}: {why}", events_received=count, method=body.method, url=body.url
    )


def read_failure(exc: BaseException, body: LiveBody, count: int) -> BaseException:
    """The public error for a failed read (`StreamReadFailed`); anything else as it is."""
    from ._transport._stream import StreamReadFailed

    if not isinstance(exc, StreamReadFailed):
        return exc
    if exc.timeout:
        return APITimeoutError(
            f"{body.method} {body.url}: {exc.reason} after {events(count)}",
            method=body.method,
            url=body.url,
        )
    return interrupted(body, f"{exc.reason} after {events(count)}", count)


def timed_out(body: LiveBody, why: str, count: int) -> APITimeoutError:
    """No event within ``idle_timeout``, or no end within ``stream_timeout``."""
    return APITimeoutError(
        f"{body.method} {body.url}: {why}, after {events(count)}", method=body.method, url=body.url
    )


def server_error(body: LiveBody, data: str, count: int) -> APIStreamError:
    """The server reported an error in the middle of the stream."""
    from ._protocol import error_message, excerpt, find_request_id

    try:
        payload: Any = json.loads(data)
    except ValueError:
        payload = excerpt(data.encode())
    status = payload.get("status") if isinstance(payload, dict) else None
    return APIStreamError(
        f"the server reported an error mid-stream: {error_message(500, payload)}",
        body=payload,
        status_code=status if isinstance(status, int) and not isinstance(status, bool) else None,
        events_received=count,
        request_id=find_request_id(body.headers),
        method=body.method,
        url=body.url,
    )


def invalid(body: LiveBody, message: str) -> APIResponseValidationError:
    """Something arrived that is not a stream of chunks."""
    from ._protocol import invalid_response

    return invalid_response(
        f"{body.method} {body.url}: {message}",
        body.status,
        body.headers,
        None,
        body.method,
        body.url,
    )


def client_closed(body: LiveBody, count: int) -> ClientStateError:
    """The client was closed under the stream."""
    return ClientStateError(
        f"{body.method} {body.url}: the client was closed while the stream was open, "
        f"after {events(count)}"
    )
