"""The rules every rate-limit store keeps, checked on the local store and the Redis store alike.

Each test runs once per store kind, with time moved by hand: the local store's
clock, or the "now" the Redis store sends instead of the Redis server's.
"""

from __future__ import annotations

import asyncio

import pytest

from llama_models._ratelimit._store import Budget, Grant, Outcome, RateLimitStore, Wait

from .conftest import Stores

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
OTHER = "Llama-3.3-70B-Instruct"
WINDOW = 60.0


def requests(limit: int) -> Budget:
    """A budget of *limit* requests per minute and no token limit."""
    return Budget(limit, None, WINDOW)


def tokens(limit: int) -> Budget:
    """A budget of *limit* tokens per minute and no request limit."""
    return Budget(None, limit, WINDOW)


UNLIMITED = Budget(None, None, WINDOW)


async def grant(store: RateLimitStore, budget: Budget, cost: int = 0, bucket: str = MODEL) -> Grant:
    """Book one request and insist that it fits."""
    result = await store.acquire(bucket, cost, budget)
    assert isinstance(result, Grant), result
    return result


async def wait(
    store: RateLimitStore,
    budget: Budget,
    cost: int = 0,
    bucket: str = MODEL,
    *,
    seconds: float | None = None,
    known: bool = True,
) -> Wait:
    """Try to book one request and insist that it has to wait (*seconds*, when given).

    *known* is whether the wait ends for certain (a pause, the budget) rather than
    on a probe's answer.
    """
    result = await store.acquire(bucket, cost, budget)
    assert isinstance(result, Wait), result
    if seconds is not None:
        assert result.seconds == pytest.approx(seconds)
    assert result.known is known
    return result


async def test_a_budget_of_n_requests_books_n_then_waits_for_the_oldest(
    store: RateLimitStore, stores: Stores
) -> None:
    """N requests fit in a window; the next waits until the oldest of them leaves it."""
    booked = [await grant(store, requests(3)) for _ in range(3)]
    assert [g.at for g in booked] == [stores.clock.now] * 3
    assert len({g.entry for g in booked}) == 3
    await wait(store, requests(3), seconds=WINDOW)
    stores.clock.advance(10)
    await wait(store, requests(3), seconds=WINDOW - 10)


async def test_the_window_slides_one_request_at_a_time(
    store: RateLimitStore, stores: Stores
) -> None:
    """A request leaves exactly one window after it was booked, making room for one more."""
    for _ in range(3):
        await grant(store, requests(3))
        stores.clock.advance(10)
    await wait(store, requests(3), seconds=30)
    stores.clock.advance(30)  # the first request was booked exactly one window ago
    await grant(store, requests(3))
    await wait(store, requests(3), seconds=10)


async def test_a_lower_limit_waits_for_the_request_that_makes_room(
    store: RateLimitStore, stores: Stores
) -> None:
    """When the limit drops below what is booked, the wait is for enough requests to leave."""
    for _ in range(4):
        await grant(store, requests(4))
        stores.clock.advance(5)
    # Four booked at 0, 5, 10, 15; a limit of 2 needs the third oldest to have left.
    await wait(store, requests(2), seconds=10 + WINDOW - 20)


async def test_the_token_budget_waits_until_enough_tokens_leave(
    store: RateLimitStore, stores: Stores
) -> None:
    """Tokens are budgeted per window too; a call waits until enough booked tokens leave."""
    await grant(store, tokens(100), 40)
    stores.clock.advance(5)
    await grant(store, tokens(100), 40)
    await wait(store, tokens(100), 30, seconds=WINDOW - 5)
    await wait(store, tokens(100), 90, seconds=WINDOW)
    await grant(store, tokens(100), 20)


async def test_a_call_larger_than_the_whole_token_budget_goes_alone(
    store: RateLimitStore,
) -> None:
    """A call that could never fit is not made to wait for ever: with nothing booked it goes."""
    await grant(store, tokens(100), 150)


async def test_settle_replaces_the_estimate_by_the_reported_count(
    store: RateLimitStore, stores: Stores
) -> None:
    """After settle, the booking counts the tokens its answer reported, not its estimate."""
    first = await grant(store, tokens(100), 80)
    await wait(store, tokens(100), 80)
    await store.settle(MODEL, first, 10)
    await grant(store, tokens(100), 80)
    await wait(store, tokens(100), 11)
    await grant(store, tokens(100), 10)


async def test_settle_of_a_request_that_left_the_window_changes_nothing(
    store: RateLimitStore, stores: Stores
) -> None:
    """Settling a booking that has already left the window neither adds nor frees tokens."""
    old = await grant(store, tokens(100), 50)
    stores.clock.advance(WINDOW + 1)
    await grant(store, tokens(100), 100)
    await store.settle(MODEL, old, 0)
    await wait(store, tokens(100), 1)


async def test_a_429_pauses_every_call_of_the_bucket(store: RateLimitStore, stores: Stores) -> None:
    """After a 429 every call waits out one pause: a sixtieth of the window at first."""
    limited = await grant(store, UNLIMITED)
    await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED)
    await wait(store, UNLIMITED, seconds=WINDOW / 60)
    stores.clock.advance(0.25)
    await wait(store, UNLIMITED, seconds=WINDOW / 60 - 0.25)


async def test_the_servers_wait_sets_the_pause_up_to_a_window(store: RateLimitStore) -> None:
    """A 429's Retry-After sets the pause, but never longer than the window."""
    limited = await grant(store, UNLIMITED)
    await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED, server_wait=7.5)
    await wait(store, UNLIMITED, seconds=7.5)
    other = await grant(store, UNLIMITED, bucket=OTHER)
    await store.report(OTHER, other, Outcome.LIMITED, UNLIMITED, server_wait=600)
    await wait(store, UNLIMITED, bucket=OTHER, seconds=WINDOW)


async def test_each_429_in_a_row_doubles_the_pause(store: RateLimitStore, stores: Stores) -> None:
    """A 429 for the probe after a pause starts a pause twice as long, up to the window."""
    pauses: list[float] = []
    for _ in range(8):
        probe = await grant(store, UNLIMITED)
        await store.report(MODEL, probe, Outcome.LIMITED, UNLIMITED)
        pause = (await wait(store, UNLIMITED)).seconds
        pauses.append(pause)
        stores.clock.advance(pause)
    assert pauses == pytest.approx([1, 2, 4, 8, 16, 32, 60, 60])


async def test_429s_of_requests_sent_before_the_pause_do_not_escalate(
    store: RateLimitStore, stores: Stores
) -> None:
    """The 429s of a storm (requests booked before its first 429) add no pause of their own."""
    storm = [await grant(store, UNLIMITED) for _ in range(20)]
    stores.clock.advance(0.5)
    for limited in storm:
        await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED)
    await wait(store, UNLIMITED, seconds=1.0)
    stores.clock.advance(1.0)
    probe = await grant(store, UNLIMITED)
    await store.report(MODEL, probe, Outcome.LIMITED, UNLIMITED)
    await wait(store, UNLIMITED, seconds=2.0)  # the second strike


async def test_after_a_pause_one_probe_goes_first_and_its_answer_frees_the_rest(
    store: RateLimitStore, stores: Stores
) -> None:
    """When the pause ends one call goes; the others wait, for an unknown time, on its answer."""
    limited = await grant(store, UNLIMITED)
    await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED)
    stores.clock.advance(1.0)
    probe = await grant(store, UNLIMITED)
    await wait(store, UNLIMITED, seconds=WINDOW, known=False)
    stores.clock.advance(2.0)
    await wait(store, UNLIMITED, seconds=WINDOW - 2, known=False)
    await store.report(MODEL, probe, Outcome.ANSWERED, UNLIMITED)
    await grant(store, UNLIMITED)
    later = await grant(store, UNLIMITED)
    await store.report(MODEL, later, Outcome.LIMITED, UNLIMITED)
    await wait(store, UNLIMITED, seconds=1.0)  # the strikes were reset


async def test_a_probe_that_never_returns_lets_another_call_try(
    store: RateLimitStore, stores: Stores
) -> None:
    """A probe that is given up, or not answered within a window, hands probing to the next call."""
    limited = await grant(store, UNLIMITED)
    await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED)
    stores.clock.advance(1.0)
    lost = await grant(store, UNLIMITED)
    await store.report(MODEL, lost, Outcome.UNANSWERED, UNLIMITED)
    await grant(store, UNLIMITED)  # the next probe
    await wait(store, UNLIMITED, known=False)
    stores.clock.advance(WINDOW)
    await grant(store, UNLIMITED)  # the second probe expired
    await wait(store, UNLIMITED, known=False)


async def test_an_answer_to_a_request_from_before_the_429_does_not_end_probing(
    store: RateLimitStore, stores: Stores
) -> None:
    """Only an answer to a request booked after the last 429 shows that the limit has lifted."""
    limited, older = await grant(store, UNLIMITED), await grant(store, UNLIMITED)
    stores.clock.advance(0.5)
    await store.report(MODEL, limited, Outcome.LIMITED, UNLIMITED)
    stores.clock.advance(1.0)
    await store.report(MODEL, older, Outcome.ANSWERED, UNLIMITED)
    await grant(store, UNLIMITED)  # still a probe
    await wait(store, UNLIMITED, known=False)


@pytest.mark.parametrize("outcome", list(Outcome))
async def test_a_request_counts_until_a_window_after_its_answer(
    store: RateLimitStore, stores: Stores, outcome: Outcome
) -> None:
    """The server counted a request somewhere between booking and answer: it counts from the answer."""
    first = await grant(store, requests(1))
    stores.clock.advance(10)
    await store.report(MODEL, first, outcome, requests(1))
    stores.clock.advance(WINDOW / 60 * 2)  # past a 429's pause
    await wait(store, requests(1), seconds=WINDOW - WINDOW / 60 * 2)
    stores.clock.advance(WINDOW - WINDOW / 60 * 2)
    await grant(store, requests(1))


async def test_an_answer_after_the_window_does_not_bring_a_request_back(
    store: RateLimitStore, stores: Stores
) -> None:
    """A request answered more than a window after its booking leaves at its usual time."""
    slow = await grant(store, requests(1))
    stores.clock.advance(WINDOW)
    await store.report(MODEL, slow, Outcome.ANSWERED, requests(1))
    await grant(store, requests(1))
    stores.clock.advance(1)
    await store.report(MODEL, slow, Outcome.ANSWERED, requests(1))  # long pruned
    await wait(store, requests(1), seconds=WINDOW - 1)


async def test_the_servers_remaining_counts_book_what_others_used(
    store: RateLimitStore, stores: Stores
) -> None:
    """An answer's remaining requests and tokens book phantom entries for others' use."""
    budget = Budget(10, 1000, WINDOW)
    first = await grant(store, budget, 100)
    stores.clock.advance(5)
    await store.report(
        MODEL, first, Outcome.ANSWERED, budget, remaining_requests=5, remaining_tokens=500
    )
    # 5 requests and 500 tokens are spent: ours (1 and 100) and others' (4 and 400).
    for _ in range(4):
        await grant(store, Budget(10, None, WINDOW))
    await grant(store, budget, 500)
    await wait(store, budget, seconds=WINDOW)
    await wait(store, Budget(None, 1000, WINDOW), 1, seconds=WINDOW)


async def test_remaining_counts_above_what_is_booked_change_nothing(
    store: RateLimitStore,
) -> None:
    """A server that reports more room than the store counts does not free any booking."""
    budget = Budget(2, 100, WINDOW)
    first = await grant(store, budget, 60)
    await store.report(
        MODEL, first, Outcome.ANSWERED, budget, remaining_requests=2, remaining_tokens=100
    )
    await grant(store, budget, 40)
    await wait(store, budget)


async def test_buckets_keep_separate_budgets_and_pauses(
    store: RateLimitStore,
) -> None:
    """Another model's budget and pause are its own."""
    await grant(store, requests(1))
    await wait(store, requests(1))
    limited = await grant(store, UNLIMITED, bucket=OTHER)
    await grant(store, requests(2), bucket=OTHER)
    await store.report(OTHER, limited, Outcome.LIMITED, UNLIMITED)
    await wait(store, UNLIMITED, bucket=OTHER)
    await grant(store, UNLIMITED)


async def test_stores_on_one_budget_share_it(stores: Stores) -> None:
    """Two stores on the same budget (for Redis: two connection pools) book from one log."""
    first, second = stores.new(), stores.new()
    await grant(first, requests(2))
    await grant(second, requests(2))
    await wait(first, requests(2))
    limited = await grant(first, UNLIMITED, bucket=OTHER)
    await first.report(OTHER, limited, Outcome.LIMITED, UNLIMITED)
    await wait(second, UNLIMITED, bucket=OTHER)


async def test_concurrent_acquires_never_book_more_than_the_budget(stores: Stores) -> None:
    """200 calls at once, from several stores on one budget, book exactly the budget."""
    sharing = [stores.new() for _ in range(4)]

    async def book(index: int) -> Grant | Wait:
        return await sharing[index % 4].acquire(MODEL, 3, Budget(25, 3 * 40, WINDOW))

    results = await asyncio.gather(*(book(index) for index in range(200)))
    granted = [r for r in results if isinstance(r, Grant)]
    assert len(granted) == 25
    assert len({g.entry for g in granted}) == 25
    assert all(isinstance(r, Wait) and r.known for r in results if not isinstance(r, Grant))
