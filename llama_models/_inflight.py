"""The calls in flight on one event loop: their deadlines, and their end when the client closes.

``asyncio.timeout`` (or aiohttp's ``ClientTimeout(total=...)``) arms and
disarms a timer for every request, which costs about 10 us of CPU per call
under load, a tenth of a whole request to a local server. `InFlight` keeps
the running calls in a dict and one timer for the earliest deadline; entering
and leaving a call is two dict operations.

When a deadline passes, the call's task is cancelled, exactly as
``asyncio.timeout`` would do it, and `leave` tells the caller that the
resulting ``CancelledError`` is a `TIMEOUT`. `close` ends every running call
the same way, with `CLOSED`, so that a call cut short by ``aclose()`` raises
`ClientStateError` rather than a bare ``CancelledError``, and it tells the
open streams, which may be waiting for their reader rather than for the
network. Cancellations that come from elsewhere (the caller's own cancel
scope, Ctrl-C) pass through untouched.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from typing import Literal, Protocol

#: Why `leave` reports that a call was cancelled by us.
Ended = Literal["timeout", "closed"]
TIMEOUT: Ended = "timeout"
CLOSED: Ended = "closed"


class OpenStream(Protocol):
    """A stream that must end when its client closes."""

    def _client_closed(self) -> None: ...


class InFlight:
    """The calls running on one event loop, and the streams open on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._running: dict[asyncio.Task[object], tuple[float | None, int]] = {}
        self._ended: dict[asyncio.Task[object], Ended] = {}
        self._streams: weakref.WeakSet[OpenStream] = weakref.WeakSet()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._drained: asyncio.Future[None] | None = None

    def enter(self, task: asyncio.Task[object], deadline: float | None) -> None:
        """Start watching *task*, which must be done by *deadline* (loop time), if any."""
        cancelling = 0
        if sys.version_info >= (3, 11):
            cancelling = task.cancelling()
        self._running[task] = (deadline, cancelling)
        if deadline is not None and (self._timer is None or deadline < self._timer_at):
            self._arm(deadline)

    def leave(self, task: asyncio.Task[object]) -> Ended | None:
        """Stop watching *task*; return why we cancelled it, if we did.

        When we cancelled the task, the cancellation is withdrawn (on Python
        3.11+, ``Task.uncancel``), unless someone else cancelled it too: then
        their cancellation wins and this returns ``None``.
        """
        _, cancelling = self._running.pop(task)
        if not self._running and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        why = self._ended.pop(task, None)
        if why is None:
            return None
        if sys.version_info >= (3, 11):
            return why if task.uncancel() <= cancelling else None
        return why  # pragma: no cover - Python 3.10 has no cancellation counts

    def add_stream(self, stream: OpenStream) -> None:
        """Tell *stream* when the client closes (it is held weakly)."""
        self._streams.add(stream)

    def close(self) -> asyncio.Future[None]:
        """End every running call and open stream; the future is done once all calls have left.

        Called once, by the client's close; the client refuses calls from then on.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in self._running:
            if task not in self._ended:
                self._ended[task] = CLOSED
                task.cancel()
        for stream in list(self._streams):
            stream._client_closed()
        drained = self._drained = self._loop.create_future()
        if not self._running:
            drained.set_result(None)
        return drained

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._fire)
        self._timer_at = when

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        earliest: float | None = None
        for task, (deadline, _) in self._running.items():
            if deadline is None:
                continue
            if deadline <= now:
                if task not in self._ended:
                    self._ended[task] = TIMEOUT
                    task.cancel()
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(earliest)
