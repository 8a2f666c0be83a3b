"""Where a rate-limit budget is kept: the store protocol and the in-process store.

A store keeps, per bucket (one model), a sliding log of the requests booked in
the last window with their tokens, and the shared backoff: after a 429 every
call of the bucket waits out one pause, then one call (the probe) goes first,
and the rest follow once it has been answered. The log is a sliding window on
purpose: at most N requests in *any* window of that length, which also keeps
within a server that counts in fixed windows, wherever their edges fall.

Times are the store's own (a monotonic clock here, the Redis server's clock
in the Redis store), and a store only ever hands out durations, so clients on
different machines never compare clocks.
"""

from __future__ import annotations

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
    """A booked request: the store's id for it and the store time it was booked at."""

    entry: str
    at: float


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
    ) -> None:
        """Record what became of *grant*, and what the server said of the budget.

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
        """Replace *grant*'s estimated tokens by the count its answer reported."""
        ...


#: How far from the end of a bucket's log a booking is looked for, to move it to its answer.
RESTAMP_REACH = 256


class _Book:
    """One bucket's state in a `LocalRateLimitStore`."""

    __slots__ = (
        "by_id",
        "entries",
        "last_strike",
        "paused_until",
        "probe",
        "probe_until",
        "probing",
        "requests",
        "strikes",
        "tokens",
    )

    def __init__(self) -> None:
        # [booked at, tokens, id, counts as a request]; ids are never reused.
        self.entries: deque[list[float | int | bool]] = deque()
        self.by_id: dict[int, list[float | int | bool]] = {}
        self.requests = 0
        self.tokens = 0
        self.paused_until = -math.inf
        self.strikes = 0
        self.last_strike = -math.inf
        self.probing = False
        self.probe: int | None = None
        self.probe_until = -math.inf

    def prune(self, since: float) -> None:
        entries = self.entries
        while entries and entries[0][0] <= since:
            _at, tokens, entry, counts = entries.popleft()
            if int(entry) > 0:  # a moved booking's old place has a negative id
                del self.by_id[int(entry)]
            self.tokens -= int(tokens)
            self.requests -= bool(counts)

    def restamp(self, entry: int, at: float) -> None:
        """Move *entry*'s booking to *at*, the end of the log.

        A booking is answered after the few booked since (about as many as are
        in flight), so it is looked for among the last `RESTAMP_REACH` of the
        log and moved; further back, it stays where it is counting nothing, and
        a copy is booked at *at*.
        """
        item = self.by_id.get(entry)
        if item is None or item[0] == at:
            return
        entries = self.entries
        for back in range(1, min(len(entries), RESTAMP_REACH) + 1):
            if entries[-back] is item:
                del entries[-back]
                item[0] = at
                entries.append(item)
                return
        tokens, counts = int(item[1]), bool(item[3])
        item[1], item[2], item[3] = 0, -entry, False  # by_id no longer finds it
        self.tokens -= tokens
        self.requests -= counts
        self.book(at, tokens, entry, counts)

    def book(self, at: float, tokens: int, entry: int, counts: bool) -> None:
        item: list[float | int | bool] = [at, tokens, entry, counts]
        self.entries.append(item)
        self.by_id[entry] = item
        self.tokens += tokens
        self.requests += counts


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

    def _book(self, bucket: str) -> _Book:
        book = self._books.get(bucket)
        if book is None:
            book = self._books[bucket] = _Book()
        return book

    async def acquire(self, bucket: str, tokens: int, budget: Budget) -> Grant | Wait:
        """Book one request of *tokens* tokens in *bucket* if *budget* and the backoff allow."""
        with self._lock:
            now = self._clock()
            window = budget.window
            book = self._book(bucket)
            book.prune(now - window)
            if now < book.paused_until:
                return Wait(book.paused_until - now)
            if book.probing and book.probe is not None:
                if now < book.probe_until:
                    return Wait(book.probe_until - now, known=False)
                book.probe = None  # it never came back: let another call try
            entries = book.entries
            if budget.requests is not None and book.requests >= budget.requests:
                # The request whose leaving makes room: the (n - limit + 1)-th oldest.
                over = book.requests - budget.requests
                for at, _tokens, _id, counts in entries:
                    if counts:
                        if over == 0:
                            return Wait(float(at) + window - now)
                        over -= 1
            if budget.tokens is not None and book.tokens + tokens > budget.tokens:
                excess = book.tokens + tokens - budget.tokens
                for at, booked, _id, _counts in entries:
                    excess -= int(booked)
                    if excess <= 0:
                        return Wait(float(at) + window - now)
            entry = next(self._ids)
            book.book(now, tokens, entry, True)
            if book.probing:
                book.probe = entry
                book.probe_until = now + window
            return Grant(str(entry), now)

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
    ) -> None:
        """Record what became of *grant*, and what the server said of the budget."""
        with self._lock:
            now = self._clock()
            book = self._book(bucket)
            entry = int(grant.entry)
            book.prune(now - budget.window)
            book.restamp(entry, now)
            if outcome is Outcome.LIMITED:
                if grant.at >= book.last_strike:
                    book.strikes += 1
                    pause = pause_after(book.strikes, budget.window, server_wait)
                    book.paused_until = max(book.paused_until, now + pause)
                    book.last_strike = now
                book.probing = True
                book.probe = None
                return
            if book.probe == entry:
                book.probe = None
            if outcome is Outcome.UNANSWERED:
                return
            if not book.probing or grant.at >= book.last_strike:
                book.probing = False
                book.strikes = 0
            if remaining_requests is not None and budget.requests is not None:
                for _ in range(budget.requests - remaining_requests - book.requests):
                    book.book(now, 0, next(self._ids), True)
            if remaining_tokens is not None and budget.tokens is not None:
                missing = budget.tokens - remaining_tokens - book.tokens
                if missing > 0:
                    book.book(now, missing, next(self._ids), False)

    async def settle(self, bucket: str, grant: Grant, tokens: int) -> None:
        """Replace *grant*'s estimated tokens by the count its answer reported."""
        with self._lock:
            book = self._books.get(bucket)
            item = None if book is None else book.by_id.get(int(grant.entry))
            if book is not None and item is not None:  # else it has left the window
                book.tokens += tokens - int(item[1])
                item[1] = tokens
