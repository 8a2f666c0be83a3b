"""Streaming a chat completion as server-sent events, and the stream faults that break it.

The response is ``200`` with ``Content-Type: text/event-stream``; it ends, and the
connection closes, after the last event: there is no ``[DONE]`` sentinel (llama-api.md
§3.1). A client that hangs up mid-stream ends the stream quietly.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ._completion import Completion
    from ._faults import Fault
    from ._routes import Call

__all__ = ["misplaced_fault_detail", "stream_completion"]

# Large writes keep a 20,000-event stream cheap: per-write overhead (a chunk header, a
# transport call, maybe a drain) would otherwise dwarf the few bytes of each event.
_BATCH_BYTES = 64 * 1024
_KEEPALIVE = b": keep-alive\n\n"


def misplaced_fault_detail(fault: Fault) -> str:
    """The 500 detail for a stream fault drawn by a request that does not stream."""
    return (
        f"Fault.{fault.kind}() applies to a streaming chat completion "
        '("stream": true), and this request was not one'
    )


async def stream_completion(call: Call, completion: Completion) -> web.StreamResponse:
    """Send `completion` as an event stream, broken by the call's stream fault if it has one."""
    headers = {**call.headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    response = web.StreamResponse(status=200, headers=headers)
    response.force_close()
    fault = call.stream_fault
    events = completion.sse_events()
    reply = completion.reply
    try:
        await response.prepare(call.request)
        head = events if fault is None else itertools.islice(events, fault.after)
        prefix = _KEEPALIVE if reply.keepalive else b""
        if reply.event_delay:
            finished = await _write_paced(response, head, prefix, reply.event_delay, call.released)
        else:
            await _write_batched(response, head, prefix)
            finished = True
        if not finished:
            _close_transport(call.request)  # the server is stopping: cut the stream
        elif fault is None:
            await response.write_eof()
        else:
            await _break(fault, response, events, call)
    except ConnectionError:
        # The client hung up; nobody is listening for the rest.
        _close_transport(call.request)
    return response


async def _write_batched(
    response: web.StreamResponse, events: Iterable[bytes], prefix: bytes
) -> None:
    batch: list[bytes] = []
    size = 0
    for event in events:
        if prefix:
            batch.append(prefix)
        batch.append(event)
        size += len(prefix) + len(event)
        if size >= _BATCH_BYTES:
            await response.write(b"".join(batch))
            batch.clear()
            size = 0
    if batch:
        await response.write(b"".join(batch))


async def _write_paced(
    response: web.StreamResponse,
    events: Iterable[bytes],
    prefix: bytes,
    delay: float,
    released: asyncio.Event,
) -> bool:
    """Write one event per `delay` seconds; ``False`` if the server stopped first."""
    for index, event in enumerate(events):
        if index and await _stopped_within(released, delay):
            return False
        await response.write(prefix + event)
    return True


async def _break(
    fault: Fault, response: web.StreamResponse, rest: Iterator[bytes], call: Call
) -> None:
    kind = fault.kind
    if kind == "stream_error":
        # A bare JSON line, no "data:" prefix: what the hosted API sends mid-stream (§3.4).
        await response.write(fault.body + b"\n\n")
        await response.write_eof()
    elif kind == "stream_end_early":
        await response.write_eof()
    elif kind == "stream_cut":
        following = next(rest, None)
        if following is not None:
            line = following[:-2]  # without the "\n\n" that ends the event
            await response.write(line[: len(line) // 2])
        _close_transport(call.request)
    else:  # stream_stall
        if fault.seconds:
            while not await _stopped_within(call.released, fault.seconds):
                await response.write(_KEEPALIVE)
        else:
            await call.released.wait()
        _close_transport(call.request)


async def _stopped_within(released: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(released.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        return False
    return True


def _close_transport(request: web.Request) -> None:
    # Returning the response for a closed transport makes aiohttp's final write fail with
    # a ConnectionError, which it treats as a quiet client disconnect.
    transport = request.transport
    if transport is not None:
        transport.close()
