"""Where a rate-limit budget is kept: the store protocol and the in-process store.

A store keeps, per bucket (one model), a sliding log of the requests booked in
the last window with their tokens (the local store groups those booked within
10 ms of a minute into one slot, so that its memory does not grow with the
rate), and the shared backoff: after a 429 every call of the bucket waits out
one pause, then one call (the probe) goes first, and the rest follow once it
has been answered. The log is a sliding window on purpose: at most N requests
in *any* window of that length, which also keeps within a server that counts
in fixed windows, wherever their edges fall.

Times are the store's own (a monotonic clock here, the Redis server's clock
in the Redis store), and a store only ever hands out durations, so clients on
different machines never compare clocks.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = [
    "Budget",
    "Grant",
    "LocalRateLimitStore",
    "Outcome",
    "RateLimitStore",
    "Wait",
    "pause_after",
]


@frozen
class Budget:
    """The limits a booking must keep to: per *window* seconds, ``None`` for none."""

    requests: int | None
    tokens: int | None
    window: float


@frozen
class Grant:
    """A booked request: the store's id for it, the store time it was booked at, its tokens."""

    entry: str
    at: float
    tokens: int = 0


@frozen
class Wait:
    """No room yet: try again in *seconds*.

    *known* says whether the room opens then for certain (a request leaving
    the window, a pause ending) or whether the store is waiting on an answer
    (a probe's), which may come sooner or, until the probe expires, later.
    """

    seconds: float
    known: bool = True


class Outcome(enum.Enum):
    """What became of a booked request."""

    #: The server answered with anything but 429.
    ANSWERED = "answered"
    #: The server answered 429.
    LIMITED = "limited"
    #: No answer came (the connection failed, the call was given up).
    UNANSWERED = "unanswered"


def pause_after(strikes: int, window: float, server_wait: float | None) -> float:
    """The shared pause after the *strikes*-th 429 in a row.

    The server's own wait when it names one; otherwise a sixtieth of the
    window (a second, for the API's minute), doubling with each 429 in a row,
    up to the whole window.
    """
    if server_wait is not None and server_wait > 0:
        return min(server_wait, window)
    return min(window / 60 * 2.0 ** min(strikes - 1, 64), window)


@runtime_checkable
class RateLimitStore(Protocol):
    """Keeps rate-limit budgets and the shared backoff, for one process or many.

    `LocalRateLimitStore` keeps them in this process;
    `llama_models.redis.RedisRateLimitStore` in Redis, for many processes and
    machines. Each method is atomic with respect to every other client of the
    same store.
    """

    async def acquire(self, bucket: str, tokens: int, budget: Budget) -> Grant | Wait:
        """Book one request of *tokens* tokens in *bucket* if *budget* and the backoff allow."""
        ...

    async def report(
        self,
        bucket: str,
        grant: Grant,
        outcome: Outcome,
        budget: Budget,
        *,
        server_wait: float | None = None,
        remaining_requests: int | None = None,
        remaining_tokens: int | None = None,
    ) -> Grant:
        """Record what became of *grant*, and what the server said of the budget.

        Each grant is reported once. Returns the grant as the store now keeps
        it (the local store's has the new booking time), which is the one to
        give `settle`.

        The request's booking moves to now: it was booked before it waited for
        a connection and was sent, and the server counted it at some moment up
        to its answer, so only a window after the answer is it surely gone from
        the server's count too, however long the hosts and the network delayed
        it.
        A 429 (`Outcome.LIMITED`) for a request booked after the last one
        starts a new pause, longer with each in a row; a 429 for a request
        booked before it belongs to the same storm and changes nothing. An
        answer ends the probing. *remaining_requests* and *remaining_tokens*
        (from the ``x-ratelimit-remaining-*`` headers) book what others have
        used, so that the store never counts more room than the server does.
        """
        ...

    async def settle(self, bucket: str, grant: Grant, tokens: int) -> None:
        """Replace *grant*'s estimated tokens by the count its answer reported.

        *grant* is the one `report` returned, or the one `acquire` did when
        nothing was reported yet.
        """
        ...


#: A booking joins the slot before it when it comes within this part of a
#: window of the slot's first booking (10 ms of a minute), so a bucket's log
#: holds at most this many slots however fast requests are sent.
SLOTS_PER_WINDOW = 6000


class _Slot:
    """Bookings of one short stretch of time: they leave the window together, with the last."""

    __slots__ = ("last", "requests", "start", "tokens")

    def __init__(self, at: float) -> None:
        self.start = at
        self.last = at
        self.requests = 0
        self.tokens = 0


def _slot_start(slot: _Slot) -> float:
    return slot.start


class _Book:
    """One bucket's state in a `LocalRateLimitStore`.

    The log is a deque of `_Slot` in time order (the store's clock never goes
    back, and every booking is made at "now"), so its memory is bounded by the
    window, not by how many requests pass through it: a client sending
    thousands of requests a second keeps a few hundred kilobytes.
    """

    __slots__ = (
        "grain",
        "last_strike",
        "paused_until",
        "probe",
        "probe_until",
        "probing",
        "requests",
        "slots",
        "strikes",
        "tokens",
    )

    def __init__(self) -> None:
        self.slots: deque[_Slot] = deque()
        self.grain = 0.0
        self.requests = 0
        self.tokens = 0
        self.paused_until = -math.inf
        self.strikes = 0
        self.last_strike = -math.inf
        self.probing = False
        self.probe: int | None = None
        self.probe_until = -math.inf

    def prune(self, since: float) -> None:
        slots = self.slots
        while slots and slots[0].last <= since:
            slot = slots.popleft()
            self.requests -= slot.requests
            self.tokens -= slot.tokens

    def book(self, at: float, tokens: int, requests: int) -> None:
        slots = self.slots
        slot = slots[-1] if slots else None
        if slot is None or at - slot.start >= self.grain:
            slot = _Slot(at)
            slots.append(slot)
        elif at > slot.last:
            slot.last = at
        slot.requests += requests
        slot.tokens += tokens
        self.requests += requests
        self.tokens += tokens

    def find(self, at: float) -> _Slot | None:
        """The slot of a booking made at *at*, or ``None`` when it has left the window."""
        slots = self.slots
        index = bisect.bisect_right(slots, at, key=_slot_start) - 1
        if index < 0:
            return None
        slot = slots[index]
        return slot if at <= slot.last else None

    def take(self, slot: _Slot, tokens: int, requests: int) -> tuple[int, int]:
        """Take one booking's *tokens* and *requests* out of *slot*; return what was there."""
        tokens, requests = min(tokens, slot.tokens), min(requests, slot.requests)
        slot.tokens -= tokens
        slot.requests -= requests
        self.tokens -= tokens
        self.requests -= requests
        return tokens, requests


class LocalRateLimitStore:
    """Keeps budgets in this process, for every client given the same `RateLimit`.

    Thread-safe: blocking clients each run on a thread of their own.

    Args:
        clock: the monotonic clock it counts time with (seconds); tests pass
            one they move by hand.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._books: dict[str, _Book] = {}
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _book(self, bucket: str, window: float) -> _Book:
        book = self._books.get(bucket)
        if book is None:
            book = self._books[bucket] = _Book()
        book.grain = window / SLOTS_PER_WINDOW
        return book

    async def acquire(self, bucket: str, tokens: int, budget: Budget) -> Grant | Wait:
        """Book one request of *tokens* tokens in *bucket* if *budget* and the backoff allow."""
        with self._lock:
            now = self._clock()
            window = budget.window
            book = self._book(bucket, window)
            book.prune(now - window)
            if now < book.paused_until:
                return Wait(book.paused_until - now)
            if book.probing and book.probe is not None:
                if now < book.probe_until:
                    return Wait(book.probe_until - now, known=False)
                book.probe = None  # it never came back: let another call try
            if budget.requests is not None and book.requests >= budget.requests:
                # The request whose leaving makes room: the (n - limit + 1)-th oldest.
                over = book.requests - budget.requests
                for slot in book.slots:
                    over -= slot.requests
                    if over < 0:
                        return Wait(slot.last + window - now)
            if budget.tokens is not None and book.tokens + tokens > budget.tokens:
                excess = book.tokens + tokens - budget.tokens
                for slot in book.slots:
                    excess -= slot.tokens
                    if excess <= 0:
                        return Wait(slot.last + window - now)
            entry = next(self._ids)
            book.book(now, tokens, 1)
            if book.probing:
                book.probe = entry
                book.probe_until = now + window
            return Grant(str(entry), now, tokens)

    async def report(
        self,
        bucket: str,
        grant: Grant,
        outcome: Outcome,
        budget: Budget,
        *,
        server_wait: float | None = None,
        remaining_requests: int | None = None,
        remaining_tokens: int | None = None,
    ) -> Grant:
        """Record what became of *grant*, and what the server said of the budget."""
        with self._lock:
            now = self._clock()
            book = self._book(bucket, budget.window)
            entry, booked = int(grant.entry), grant.at
            book.prune(now - budget.window)
            slot = book.find(booked)
            if slot is not None:  # else it has left the window, and stays gone
                tokens, requests = book.take(slot, grant.tokens, 1)
                book.book(now, tokens, requests)
                grant = Grant(grant.entry, now, tokens)
            if outcome is Outcome.LIMITED:
                if booked >= book.last_strike:
                    book.strikes += 1
                    pause = pause_after(book.strikes, budget.window, server_wait)
                    book.paused_until = max(book.paused_until, now + pause)
                    book.last_strike = now
                book.probing = True
                book.probe = None
                return grant
            if book.probe == entry:
                book.probe = None
            if outcome is Outcome.UNANSWERED:
                return grant
            if not book.probing or booked >= book.last_strike:
                book.probing = False
                book.strikes = 0
            if remaining_requests is not None and budget.requests is not None:
                missing = budget.requests - remaining_requests - book.requests
                if missing > 0:
                    book.book(now, 0, missing)
            if remaining_tokens is not None and budget.tokens is not None:
                missing = budget.tokens - remaining_tokens - book.tokens
                if missing > 0:
                    book.book(now, missing, 0)
            return grant

    async def settle(self, bucket: str, grant: Grant, tokens: int) -> None:
        """Replace *grant*'s estimated tokens by the count its answer reported."""
        with self._lock:
            book = self._books.get(bucket)
            slot = None if book is None else book.find(grant.at)
            if book is not None and slot is not None:  # else it has left the window
                book.take(slot, grant.tokens, 0)
                slot.tokens += tokens
                book.tokens += tokens
