"""`Limiter`: one transport's side of a `RateLimit`: waiting for room, and reporting back.

The transport asks for a `Ticket` for each call (`Limiter.ticket`), waits for
room before each attempt (`acquire`), and reports each answer (`answered`,
`unanswered`) and the real token count (`settle`). The budget itself lives in
the `RateLimit`'s store, shared with every client given the same settings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from .._protocol import RequestSpec, parse_rate_limit
from .._retry import parse_retry_after
from ..errors import RateLimitBudgetError
from ._estimate import estimate_tokens
from ._settings import RateLimit
from ._store import Budget, Grant, Outcome

__all__ = ["Limiter", "Ticket"]

_T = TypeVar("_T")

#: The paths a budget applies to, and whether their answer is a completion
#: (whose tokens count too). The API reports its limits on chat completions;
#: moderations name a model and are counted against it as well.
LIMITED_PATHS: Mapping[str, bool] = {"chat/completions": True, "moderations": False}


class Ticket:
    """One call's place in the budget: its bucket, its estimated tokens, its booking."""

    __slots__ = ("bucket", "grant", "scout", "tokens")

    def __init__(self, bucket: str, tokens: int) -> None:
        self.bucket = bucket
        self.tokens = tokens
        self.grant: Grant | None = None
        #: Whether this call is finding out a bucket's limits for the others.
        self.scout = False


class Limiter:
    """Keeps one transport's calls within a `RateLimit`."""

    def __init__(self, settings: RateLimit) -> None:
        self.settings = settings
        self._store = settings.store
        self._budgets: dict[str, Budget] = {}
        self._learned: dict[str, tuple[int | None, int | None]] = {}
        # Buckets whose limits an answer has told (or that need no telling), and
        # those whose first call is out finding them.
        self._known: set[str] = set()
        self._scouting: set[str] = set()
        self._scouts_needed = settings.adaptive and (
            settings.requests_per_minute is None or settings.tokens_per_minute is None
        )
        # Calls waiting for room that opens at a known time, and calls waiting
        # for an answer (a probe's or a scout's), woken early when one comes.
        self._sleepers: set[asyncio.Future[None]] = set()
        self._watchers: set[asyncio.Future[None]] = set()
        self._settling: set[asyncio.Task[None]] = set()
        # How often a call waiting on another process's probe looks again.
        self._poll = settings.window / 120

    def ticket(self, spec: RequestSpec) -> Ticket | None:
        """A ticket for *spec*, or ``None`` when the budget does not apply to it."""
        completion = LIMITED_PATHS.get(spec.path)
        body = spec.json
        if completion is None or not isinstance(body, Mapping):
            return None
        model = body.get("model")
        bucket = model if isinstance(model, str) else spec.path
        return Ticket(bucket, estimate_tokens(body, completion=completion))

    def budget(self, bucket: str) -> Budget:
        """The limits that apply to *bucket*: the user's, lowered by what the server said."""
        budget = self._budgets.get(bucket)
        if budget is None:
            settings = self.settings
            requests, tokens = settings.requests_per_minute, settings.tokens_per_minute
            learned = self._learned.get(bucket)
            if learned is not None:
                requests, tokens = _lower(requests, learned[0]), _lower(tokens, learned[1])
            budget = self._budgets[bucket] = Budget(requests, tokens, settings.window)
        return budget

    async def acquire(self, ticket: Ticket, deadline: float, method: str, url: str) -> None:
        """Wait until *ticket* may be sent, and book it.

        Raises `RateLimitBudgetError` at once, sending nothing, when the room
        opens only after *deadline* (loop time) or never does.
        """
        loop = asyncio.get_running_loop()
        bucket, tokens = ticket.bucket, ticket.tokens
        while True:
            budget = self.budget(bucket)
            if budget.tokens is not None and tokens > budget.tokens:
                raise _refusal(
                    f"its estimated {tokens} tokens are more than the whole budget of "
                    f"{budget.tokens} tokens per window",
                    None,
                    method,
                    url,
                )
            remaining = deadline - loop.time()
            if self._scouts_needed and bucket not in self._known:
                if bucket in self._scouting:
                    if remaining <= 0:
                        raise _refusal(
                            "the call finding out the model's limits had not been answered "
                            "when the timeout ran out",
                            None,
                            method,
                            url,
                        )
                    await _wait(self._watchers, remaining)
                    continue
                self._scouting.add(bucket)
                ticket.scout = True
            got = await self._store.acquire(bucket, tokens, budget)
            if isinstance(got, Grant):
                ticket.grant = got
                return
            if ticket.scout:  # someone else's pause or probe: let them scout
                self._end_scouting(ticket)
            if got.known:
                if got.seconds > remaining:
                    raise _refusal(
                        f"the budget has room again in {got.seconds:.3g} s, after the "
                        f"{max(remaining, 0):.3g} s left of this call's timeout",
                        got.seconds,
                        method,
                        url,
                    )
                await _wait(self._sleepers, got.seconds)
            else:
                if remaining <= 0:
                    raise _refusal(
                        "after a 429, the call sent first to probe the limit had not been "
                        "answered when the timeout ran out",
                        None,
                        method,
                        url,
                    )
                await _wait(self._watchers, min(got.seconds, self._poll, remaining))

    async def answered(self, ticket: Ticket, status: int, headers: Mapping[str, str]) -> None:
        """Report the server's answer to *ticket*'s attempt."""
        grant = ticket.grant
        if grant is None:
            return
        ticket.grant = None
        bucket = ticket.bucket
        limited = status == 429
        info = parse_rate_limit(headers) if self.settings.adaptive else None
        if info is not None:
            self._learn(bucket, info.limit_requests, info.limit_tokens)
        kept = await self._record(
            self._store.report(
                bucket,
                grant,
                Outcome.LIMITED if limited else Outcome.ANSWERED,
                self.budget(bucket),
                server_wait=parse_retry_after(headers, time.time()) if limited else None,
                remaining_requests=None if info is None or limited else info.remaining_requests,
                remaining_tokens=None if info is None or limited else info.remaining_tokens,
            )
        )
        ticket.grant = kept if isinstance(kept, Grant) else grant  # kept for settle
        if ticket.scout:
            ticket.scout = False
            self._scouting.discard(bucket)
            self._known.add(bucket)
        _wake(self._watchers)

    async def unanswered(self, ticket: Ticket) -> None:
        """Report that *ticket*'s attempt got no answer."""
        grant, ticket.grant = ticket.grant, None
        if ticket.scout:
            self._end_scouting(ticket)
        if grant is not None:
            await self._record(
                self._store.report(
                    ticket.bucket, grant, Outcome.UNANSWERED, self.budget(ticket.bucket)
                )
            )
        _wake(self._watchers)

    def abandon(self, ticket: Ticket) -> None:
        """The call was cancelled: let another call scout; a probe it was expires by itself."""
        ticket.grant = None
        if ticket.scout:
            self._end_scouting(ticket)
            _wake(self._watchers)

    async def settle(self, ticket: Ticket, answer: Any) -> None:
        """Count *answer*'s reported tokens instead of *ticket*'s estimate."""
        grant = ticket.grant
        usage = getattr(answer, "usage", None)
        total = getattr(usage, "total_tokens", None)
        if grant is None or not isinstance(total, (int, float)) or isinstance(total, bool):
            return
        ticket.grant = None
        await self._record(self._store.settle(ticket.bucket, grant, int(total)))
        if total < ticket.tokens:
            _wake(self._sleepers)

    def settle_later(self, ticket: Ticket, answer: Any) -> None:
        """`settle`, from code that cannot wait (a stream reaching its end)."""
        task = asyncio.get_running_loop().create_task(self.settle(ticket, answer))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    @staticmethod
    async def _record(report: Awaitable[_T]) -> _T | None:
        """Await a report to the store; if the store fails, log it and let the call go on.

        The answer has come: losing it for the sake of the bookkeeping would be worse
        than a budget that counts one request less exactly.
        """
        try:
            return await report
        except Exception as exc:
            import logging

            logging.getLogger("llama_models").warning(
                "the rate limit's store could not record an answer (%s: %s); the call goes on",
                type(exc).__name__,
                exc,
            )
            return None

    def _learn(self, bucket: str, requests: int | None, tokens: int | None) -> None:
        old = self._learned.get(bucket, (None, None))
        new = (requests if requests else old[0], tokens if tokens else old[1])
        if new != old:
            self._learned[bucket] = new
            self._budgets.pop(bucket, None)

    def _end_scouting(self, ticket: Ticket) -> None:
        ticket.scout = False
        self._scouting.discard(ticket.bucket)


async def _wait(waiters: set[asyncio.Future[None]], seconds: float) -> None:
    """Sleep *seconds*, or less when woken through *waiters*."""
    if seconds <= 0:
        return
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()
    timer = loop.call_later(seconds, _set, woken)
    waiters.add(woken)
    try:
        await woken
    finally:
        timer.cancel()
        waiters.discard(woken)


def _lower(mine: int | None, theirs: int | None) -> int | None:
    if mine is None:
        return theirs
    if theirs is None:
        return mine
    return min(mine, theirs)


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake(waiters: set[asyncio.Future[None]]) -> None:
    for future in waiters:
        _set(future)


def _refusal(why: str, wait: float | None, method: str, url: str) -> RateLimitBudgetError:
    return RateLimitBudgetError(
        f"{method} {url} was not sent: {why} (the client's rate_limit)",
        retry_after=wait,
        method=method,
        url=url,
    )
