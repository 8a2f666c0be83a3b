"""Call deadlines with one timer per client instead of one per call.

``asyncio.timeout`` (or aiohttp's ``ClientTimeout(total=...)``) arms and
disarms a timer for every request, which costs about 10 us of CPU per call
under load, a tenth of a whole request to a local server. `Deadlines` keeps
the running calls in a dict and one timer for the earliest deadline; entering
and leaving a call is two dict operations.

When a deadline passes, the call's task is cancelled, exactly as
``asyncio.timeout`` would do it, and `leave` tells the caller to turn the
resulting ``CancelledError`` into a timeout. Cancellations that come from
elsewhere (the caller's own cancel scope, Ctrl-C) pass through untouched.
"""

from __future__ import annotations

import asyncio
import sys


class Deadlines:
    """The deadlines of the calls running on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._running: dict[asyncio.Task[object], tuple[float, int]] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def enter(self, task: asyncio.Task[object], deadline: float) -> None:
        """Start watching *task*, which must be done by *deadline* (loop time)."""
        cancelling = 0
        if sys.version_info >= (3, 11):
            cancelling = task.cancelling()
        self._running[task] = (deadline, cancelling)
        if self._timer is None or deadline < self._timer_at:
            self._arm(deadline)

    def leave(self, task: asyncio.Task[object]) -> bool:
        """Stop watching *task*; return whether a ``CancelledError`` is a timeout.

        When the deadline cancelled the task, the cancellation is withdrawn (on
        Python 3.11+, ``Task.uncancel``), unless someone else cancelled it too.
        """
        _, cancelling = self._running.pop(task)
        if task not in self._expired:
            return False
        self._expired.discard(task)
        if sys.version_info >= (3, 11):
            return task.uncancel() <= cancelling
        return True  # pragma: no cover - Python 3.10 has no cancellation counts

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
            if deadline <= now:
                if task not in self._expired:
                    self._expired.add(task)
                    task.cancel()
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(earliest)
