"""Carrying out a drawn fault: answering for the handler, or breaking the connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from aiohttp import web

from ._faults import STREAM_KINDS, Fault

__all__ = ["apply_fault"]

_RESPONDING_KINDS = frozenset({"respond", "error", "rate_limited", "malformed", "redirect"})
# How many promised body bytes a truncated response never delivers.
_WITHHELD_BYTES = 1024

_Headers = tuple[tuple[str, str], ...]


async def apply_fault(
    fault: Fault,
    request: web.Request,
    released: asyncio.Event,
    extra_headers: Mapping[str, str],
) -> web.StreamResponse | None:
    """Carry out `fault` for `request`; ``None`` means "now handle it normally".

    Stream faults also return ``None``: the dispatcher hands them to the handler.
    `released` is set when the server stops; every wait here ends on it. `extra_headers`
    are the headers the server adds to every response (the request id), unless the
    fault sets them itself.
    """
    kind = fault.kind
    if kind in STREAM_KINDS:
        return None  # the streaming handler carries it out
    if kind in _RESPONDING_KINDS:
        return web.Response(
            status=fault.status, body=fault.body, headers=_merge(fault.headers, extra_headers)
        )
    if kind == "delay":
        await _wait(released, fault.seconds)
        return None
    if kind == "stall":
        await released.wait()
        return _hang_up(request)
    if kind == "drop":
        return _hang_up(request)
    response = web.StreamResponse(
        status=fault.status,
        headers=_merge((("Content-Type", "application/json"),), extra_headers),
    )
    response.content_length = len(fault.body) + _WITHHELD_BYTES
    response.force_close()
    try:
        await response.prepare(request)
        await response.write(fault.body)
    except ConnectionError:
        # The client left first; nothing is listening for the rest anyway.
        pass
    else:
        if kind == "stall_body":
            await released.wait()
    _close_transport(request)
    return response


async def _wait(released: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(released.wait(), timeout=seconds)


def _hang_up(request: web.Request) -> web.StreamResponse:
    # Returning a response for a closed transport makes aiohttp fail the write with a
    # ConnectionError, which it treats as a quiet client disconnect: no bytes go out
    # and nothing is logged at error level (raising from the handler would log a 500).
    _close_transport(request)
    response = web.Response()
    response.force_close()
    return response


def _close_transport(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def _merge(own: _Headers, extra: Mapping[str, str]) -> list[tuple[str, str]]:
    present = {key.lower() for key, _ in own}
    merged = list(own)
    merged.extend((key, value) for key, value in extra.items() if key.lower() not in present)
    return merged
