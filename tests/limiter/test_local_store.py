"""The in-process store's own properties: its log's memory is bounded by the window, not the rate.

The rules it shares with the Redis store are in ``test_store_contract.py``.
"""

from __future__ import annotations

import tracemalloc

import pytest

from llama_models._ratelimit._store import (
    SLOTS_PER_WINDOW,
    Budget,
    Grant,
    LocalRateLimitStore,
    Outcome,
    Wait,
)

from .support import ManualClock

pytestmark = pytest.mark.anyio

WINDOW = 60.0
GRAIN = WINDOW / SLOTS_PER_WINDOW


async def _wait(store: LocalRateLimitStore, budget: Budget, tokens: int = 0) -> float:
    """The seconds a booking of *tokens* must wait, insisting that it must."""
    result = await store.acquire("m", tokens, budget)
    assert isinstance(result, Wait), result
    assert result.known
    return result.seconds


async def _run_fast(store: LocalRateLimitStore, clock: ManualClock, count: int) -> None:
    """Book *count* requests 1 ms apart, 16 in flight, each answered and settled."""
    budget = Budget(10**9, 10**12, WINDOW)
    flying: list[Grant] = []
    for _ in range(count):
        clock.advance(0.001)
        grant = await store.acquire("m", 1_100, budget)
        assert isinstance(grant, Grant)
        flying.append(grant)
        if len(flying) == 16:
            answered = flying.pop(0)
            kept = await store.report("m", answered, Outcome.ANSWERED, budget)
            await store.settle("m", kept, 30)


async def test_the_log_holds_a_window_of_slots_however_fast_requests_come() -> None:
    """1,000 requests a second for a window keep the log within SLOTS_PER_WINDOW slots.

    Before slots, the log held every request of the window, about 190 bytes each
    (11 MiB here); the bound is what keeps a million-line batch flat.
    """
    clock = ManualClock()
    store = LocalRateLimitStore(clock)
    tracemalloc.start()
    try:
        await _run_fast(store, clock, 60_000)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    book = store._books["m"]
    assert len(book.slots) <= SLOTS_PER_WINDOW + 1
    assert book.requests == 60_000  # a minute at 1,000 a second: all still in the window
    assert book.tokens == (60_000 - 15) * 30 + 15 * 1_100  # 15 still in flight
    assert held < 2**20


async def test_bookings_in_one_slot_leave_with_its_last() -> None:
    """Bookings within a slot's length of each other leave together, up to that much late."""
    clock = ManualClock()
    store = LocalRateLimitStore(clock)
    budget = Budget(2, None, WINDOW)
    assert isinstance(await store.acquire("m", 0, budget), Grant)
    clock.advance(GRAIN / 2)
    assert isinstance(await store.acquire("m", 0, budget), Grant)
    assert await _wait(store, budget) == pytest.approx(WINDOW)
    clock.advance(WINDOW - GRAIN / 2)  # the first would have left by now on its own
    assert await _wait(store, budget) == pytest.approx(GRAIN / 2)
    clock.advance(GRAIN / 2)
    assert isinstance(await store.acquire("m", 0, budget), Grant)


async def test_a_settle_after_the_answer_corrects_the_moved_booking() -> None:
    """settle, given the grant report returned, corrects the booking where the answer moved it."""
    clock = ManualClock()
    store = LocalRateLimitStore(clock)
    budget = Budget(None, 100, WINDOW)
    first = await store.acquire("m", 80, budget)
    assert isinstance(first, Grant)
    clock.advance(10)
    kept = await store.report("m", first, Outcome.ANSWERED, budget)
    assert kept == Grant(first.entry, first.at + 10, 80)
    await store.settle("m", kept, 10)
    assert isinstance(await store.acquire("m", 90, budget), Grant)
    # The 10 tokens of the answer leave a window after it; the 90 a window after their booking.
    assert await _wait(store, budget, 1) == pytest.approx(WINDOW - 10 + 10)


async def test_a_grant_reported_twice_never_frees_room() -> None:
    """A booking's slot gives up one request and its tokens at most: a second report
    (which the limiter never makes) can only hold a neighbour longer, never drop it."""
    clock = ManualClock()
    store = LocalRateLimitStore(clock)
    budget = Budget(2, None, WINDOW)
    grant = await store.acquire("m", 5, budget)
    assert isinstance(grant, Grant)
    assert isinstance(await store.acquire("m", 5, budget), Grant)
    clock.advance(1)
    await store.report("m", grant, Outcome.ANSWERED, budget)
    await store.report("m", grant, Outcome.ANSWERED, budget)
    book = store._books["m"]
    assert (book.requests, book.tokens) == (2, 10)
    assert await _wait(store, budget) == pytest.approx(WINDOW)
