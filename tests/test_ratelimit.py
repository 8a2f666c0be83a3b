"""The client-side rate limit, observed on the wire: waiting for room, and one pause per 429."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

import pytest

from llama_models import (
    AsyncLlamaClient,
    ChatCompletion,
    InvalidArgumentError,
    LlamaClient,
    LocalRateLimitStore,
    RateLimit,
    RateLimitBudgetError,
    RateLimitError,
)
from llama_models._ratelimit._estimate import DEFAULT_COMPLETION_TOKENS, estimate_tokens
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
OTHER = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


def _client(server: FakeLlamaAPI, rate_limit: RateLimit, **kwargs: object) -> AsyncLlamaClient:
    return AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        rate_limit=rate_limit,
        **kwargs,  # type: ignore[arg-type]
    )


async def _chat(client: AsyncLlamaClient, model: str = MODEL, **kwargs: object) -> ChatCompletion:
    return await client.chat.completions.create(model=model, messages=HELLO, **kwargs)  # type: ignore[call-overload, no-any-return]


def _chats(server: FakeLlamaAPI) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/chat/completions"))


@pytest.fixture
async def server() -> AsyncIterator[FakeLlamaAPI]:
    """A fake Llama API on the test's own event loop."""
    async with FakeLlamaAPI() as fake:
        yield fake


async def test_calls_wait_for_room_in_the_request_budget(server: FakeLlamaAPI) -> None:
    """With 3 requests per window, the 4th call is sent only once the 1st has left the window."""
    window = 0.4
    limit = RateLimit(requests_per_minute=3, window=window, adaptive=False)
    async with _client(server, limit) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        finished: list[float] = []

        async def one() -> None:
            await _chat(client)
            finished.append(loop.time() - started)

        await asyncio.gather(*(one() for _ in range(4)))
    finished.sort()
    assert finished[3] >= window
    assert _chats(server) == 4


async def test_a_call_that_cannot_fit_in_its_timeout_fails_at_once_sending_nothing(
    server: FakeLlamaAPI,
) -> None:
    """A call whose room opens after its timeout raises RateLimitBudgetError at once, unsent."""
    limit = RateLimit(requests_per_minute=1, adaptive=False)
    async with _client(server, limit) as client:
        await _chat(client)
        loop = asyncio.get_running_loop()
        before = loop.time()
        with pytest.raises(RateLimitBudgetError) as caught:
            await _chat(client, timeout=5)
        assert loop.time() - before < 1
    assert _chats(server) == 1
    error = caught.value
    assert isinstance(error, RateLimitError)
    assert error.status_code == 429
    assert error.body is None
    assert error.retry_after is not None
    assert 55 < error.retry_after <= 60
    assert "was not sent" in str(error)
    assert "rate_limit" in str(error)
    assert server.api_key not in str(error)


async def test_a_request_bigger_than_the_token_budget_is_refused(server: FakeLlamaAPI) -> None:
    """A request whose estimated tokens exceed the whole token budget never waits: it fails."""
    limit = RateLimit(tokens_per_minute=100, adaptive=False)
    async with _client(server, limit) as client:
        with pytest.raises(RateLimitBudgetError, match="more than the whole budget"):
            await _chat(client, max_completion_tokens=500)
    assert _chats(server) == 0


class _TickingClock:
    """A store clock a second further on at each reading: every answer lands a second after
    its booking, in another of the store's slots, however fast the fake answers."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


async def test_reported_usage_replaces_the_estimate(server: FakeLlamaAPI) -> None:
    """The tokens an answer reports replace the estimate, so a second call fits at once."""
    # Each call is estimated at about 1,000 tokens; the fake reports a few dozen.
    store = LocalRateLimitStore(_TickingClock())
    limit = RateLimit(tokens_per_minute=1_500, adaptive=False, store=store)
    async with _client(server, limit) as client:
        await _chat(client, max_completion_tokens=1_000)
        await _chat(client, max_completion_tokens=1_000, timeout=5)
    assert _chats(server) == 2


async def test_a_429_pauses_every_call_and_costs_one_429_per_pause(server: FakeLlamaAPI) -> None:
    """20 concurrent calls against 4 rate-limited answers in a row see exactly those 4 429s.

    After a 429 the model's calls wait out one shared pause, then one call probes
    the limit while the others wait for its answer.
    """
    server.enqueue(*(Fault.rate_limited() for _ in range(4)), path="/v1/chat/completions")
    limit = RateLimit(window=1.2)  # adaptive: the first call goes alone
    async with _client(server, limit) as client:
        results = await asyncio.gather(*(_chat(client) for _ in range(20)))
    assert all(isinstance(result, ChatCompletion) for result in results)
    assert _chats(server) == 24
    assert server.pending_faults == 0


async def test_without_a_rate_limit_a_429_storm_fails_calls(server: FakeLlamaAPI) -> None:
    """The contrast: without a limiter, calls retry on their own and run out of retries."""
    server.enqueue(
        *(Fault.rate_limited(retry_after_ms="1") for _ in range(12)), path="/v1/chat/completions"
    )
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=2
    ) as client:
        results = await asyncio.gather(*(_chat(client) for _ in range(4)), return_exceptions=True)
    assert all(isinstance(result, RateLimitError) for result in results)
    assert _chats(server) == 12


async def test_the_429s_own_retry_after_sets_the_pause(server: FakeLlamaAPI) -> None:
    """A Retry-After on the 429 is the length of the shared pause."""
    server.enqueue(Fault.rate_limited(retry_after="0.3"), path="/v1/chat/completions")
    async with _client(server, RateLimit(adaptive=False)) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
        assert loop.time() - started >= 0.3
    assert response.retries == 1
    assert _chats(server) == 2


async def test_429s_waited_out_do_not_use_up_max_retries(server: FakeLlamaAPI) -> None:
    """With a rate limit, a 429 is waited out within the timeout, whatever max_retries says."""
    server.enqueue(*(Fault.rate_limited() for _ in range(3)), path="/v1/chat/completions")
    async with _client(server, RateLimit(window=0.6, adaptive=False), max_retries=0) as client:
        response = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert response.retries == 3


async def test_a_429_outlasting_the_timeout_fails_at_once(server: FakeLlamaAPI) -> None:
    """When the pause after a 429 ends after the call's timeout, the call fails without waiting."""
    server.enqueue(Fault.rate_limited(retry_after="30"), path="/v1/chat/completions")
    async with _client(server, RateLimit(adaptive=False)) as client:
        with pytest.raises(RateLimitBudgetError, match="has room again in"):
            await _chat(client, timeout=2)
    assert _chats(server) == 1


async def test_the_first_call_of_a_model_finds_out_its_limits_alone(server: FakeLlamaAPI) -> None:
    """With adaptive limits and none set, no call is sent until the first one is answered."""
    server.enqueue(Fault.delay(0.3), path="/v1/chat/completions")
    finished: list[str] = []

    async def chat(name: str) -> None:
        await _chat(client)
        finished.append(name)

    async with _client(server, RateLimit()) as client:
        first = asyncio.ensure_future(chat("first"))
        await server.wait_for_requests_async(1)
        await asyncio.gather(first, *(chat("other") for _ in range(5)))
    assert finished[0] == "first"
    assert _chats(server) == 6


async def test_the_servers_remaining_count_is_never_exceeded(server: FakeLlamaAPI) -> None:
    """An answer saying no requests remain makes the next call wait a whole window."""
    completion = {
        "id": "c1",
        "completion_message": {
            "role": "assistant",
            "content": {"type": "text", "text": "Hi"},
            "stop_reason": "stop",
        },
        "metrics": [],
    }
    headers = {
        "x-ratelimit-limit-requests": "5",
        "x-ratelimit-remaining-requests": "0",
    }
    server.enqueue(Fault.respond(200, json=completion, headers=headers))
    async with _client(server, RateLimit(requests_per_minute=100)) as client:
        await _chat(client)
        with pytest.raises(RateLimitBudgetError):
            await _chat(client, timeout=5)
    assert _chats(server) == 1


async def test_models_have_budgets_of_their_own(server: FakeLlamaAPI) -> None:
    """A spent budget for one model leaves another model's calls alone, as the API's limits do."""
    async with _client(server, RateLimit(requests_per_minute=1, adaptive=False)) as client:
        await _chat(client)
        await _chat(client, model=OTHER, timeout=5)
        with pytest.raises(RateLimitBudgetError):
            await _chat(client, timeout=5)


async def test_clients_given_one_rate_limit_share_its_budget(server: FakeLlamaAPI) -> None:
    """Two clients given the same RateLimit spend one budget."""
    limit = RateLimit(requests_per_minute=1, adaptive=False)
    async with _client(server, limit) as first, _client(server, limit) as second:
        await _chat(first)
        with pytest.raises(RateLimitBudgetError):
            await _chat(second, timeout=5)


async def test_other_endpoints_are_not_limited(server: FakeLlamaAPI) -> None:
    """Listing models is not counted: the API's limits are on calls to a model."""
    async with _client(server, RateLimit(requests_per_minute=1, adaptive=False)) as client:
        for _ in range(3):
            await client.models.list()


async def test_moderations_count_against_their_model(server: FakeLlamaAPI) -> None:
    """Moderations are counted in the budget of the model they name."""
    async with _client(server, RateLimit(requests_per_minute=1, adaptive=False)) as client:
        await client.moderations.create(messages=HELLO)
        with pytest.raises(RateLimitBudgetError):
            await client.moderations.create(messages=HELLO, timeout=5)


async def test_a_stream_waits_for_room_too(server: FakeLlamaAPI) -> None:
    """Opening a stream books a request like any other call."""
    async with _client(server, RateLimit(requests_per_minute=1, adaptive=False)) as client:
        async with await client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True
        ) as stream:
            async for _chunk in stream:
                pass
        with pytest.raises(RateLimitBudgetError):
            await client.chat.completions.create(
                model=MODEL, messages=HELLO, stream=True, timeout=5
            )


async def test_a_finished_streams_usage_replaces_the_estimate(server: FakeLlamaAPI) -> None:
    """A stream read to its end counts the tokens its metrics report, not its estimate."""
    store = LocalRateLimitStore(_TickingClock())
    limit = RateLimit(tokens_per_minute=1_500, adaptive=False, store=store)
    async with _client(server, limit) as client:
        async with await client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, max_completion_tokens=1_000
        ) as stream:
            await stream.final_completion()
        limiter = client._transport._limiter  # type: ignore[union-attr]
        while limiter._settling:  # type: ignore[union-attr]
            await asyncio.sleep(0)  # the settling runs as a task of its own
        await _chat(client, max_completion_tokens=1_000, timeout=5)


async def test_hooks_see_a_429_the_limiter_waited_out(server: FakeLlamaAPI) -> None:
    """A request hook sees the 429 as an attempt to be retried, then the answer."""
    from llama_models import RequestAttempt

    seen: list[RequestAttempt] = []
    server.enqueue(Fault.rate_limited(retry_after="0.05"), path="/v1/chat/completions")
    async with _client(server, RateLimit(adaptive=False), hooks=[seen.append]) as client:
        await _chat(client)
    assert [(a.status, a.will_retry, a.attempt) for a in seen] == [(429, True, 1), (200, False, 2)]


async def test_a_cancelled_first_call_lets_the_next_one_find_out(server: FakeLlamaAPI) -> None:
    """When the call finding out a model's limits is cancelled, another call takes its place."""
    server.enqueue(Fault.stall(), path="/v1/chat/completions")
    async with _client(server, RateLimit()) as client:
        first = asyncio.ensure_future(_chat(client))
        await server.wait_for_requests_async(1)
        second = asyncio.ensure_future(_chat(client, timeout=5))
        limiter = client._transport._limiter  # type: ignore[union-attr]
        while not limiter._watchers:  # type: ignore[union-attr]
            await asyncio.sleep(0)  # until the second call waits for the first's answer
        first.cancel()
        completion = await second
        assert isinstance(completion, ChatCompletion)
        with pytest.raises(asyncio.CancelledError):
            await first


def test_the_blocking_client_keeps_to_its_budget(threaded_server: FakeLlamaAPI) -> None:
    """LlamaClient takes the same rate_limit and refuses a call that cannot fit."""
    limit = RateLimit(requests_per_minute=1, adaptive=False)
    with LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, rate_limit=limit
    ) as client:
        client.chat.completions.create(model=MODEL, messages=HELLO)
        with pytest.raises(RateLimitBudgetError):
            client.chat.completions.create(model=MODEL, messages=HELLO, timeout=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests_per_minute": 0}, "requests_per_minute must be a whole number >= 1"),
        ({"requests_per_minute": 1.5}, "requests_per_minute must be a whole number >= 1"),
        ({"tokens_per_minute": True}, "tokens_per_minute must be a whole number >= 1"),
        ({"window": 0}, "window must be a finite number of seconds > 0"),
        ({"window": math.inf}, "window must be a finite number of seconds > 0"),
        ({"adaptive": "yes"}, "adaptive must be a bool"),
        ({"store": object()}, "store must be a RateLimitStore"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Each bad RateLimit setting is refused with InvalidArgumentError naming it."""
    with pytest.raises(InvalidArgumentError, match=message):
        RateLimit(**kwargs)  # type: ignore[arg-type]


def test_a_client_refuses_anything_but_a_rate_limit() -> None:
    """rate_limit= takes a RateLimit, not a number."""
    with pytest.raises(InvalidArgumentError, match=r"rate_limit must be a llama_models\.RateLimit"):
        AsyncLlamaClient(api_key="k", rate_limit=60)  # type: ignore[arg-type]


def test_the_default_store_is_local_and_shown_in_the_repr() -> None:
    """A RateLimit keeps its budget in this process unless given a store."""
    limit = RateLimit(requests_per_minute=10)
    assert isinstance(limit.store, LocalRateLimitStore)
    assert "requests_per_minute=10" in repr(limit)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"messages": [{"role": "user", "content": "x" * 400}]},
            4 + 100 + DEFAULT_COMPLETION_TOKENS,
        ),
        (
            {"messages": [{"role": "user", "content": "x" * 40}], "max_completion_tokens": 50},
            4 + 10 + 50,
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "y" * 8},
                            {"type": "image_url", "image_url": {"url": "data:"}},
                        ],
                    }
                ],
                "max_completion_tokens": 1,
            },
            4 + 2 + 1024 + 1,
        ),
    ],
)
def test_the_token_estimate(body: dict[str, object], expected: int) -> None:
    """A request is estimated at a token per four characters, images flat, plus its reply."""
    assert estimate_tokens(body, completion=True) == expected


def test_a_request_body_is_estimated_from_its_json() -> None:
    """Tools count by the size of their JSON."""
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    without = estimate_tokens({"messages": HELLO}, completion=False)
    with_tools = estimate_tokens({"messages": HELLO, "tools": tools}, completion=False)
    assert with_tools - without >= len(json.dumps(tools)) // 4 - 1


async def test_a_derived_client_keeps_to_its_parents_budget_and_hooks(
    server: FakeLlamaAPI,
) -> None:
    """with_options keeps the rate limit (one budget) and the hooks of the parent."""
    from llama_models import RequestAttempt

    seen: list[RequestAttempt] = []
    limit = RateLimit(requests_per_minute=1, adaptive=False)
    async with _client(server, limit, hooks=[seen.append]) as client:
        await _chat(client)
        patient = client.with_options(max_retries=5)
        with pytest.raises(RateLimitBudgetError):
            await _chat(patient, timeout=5)
        await patient.models.list()
    assert [attempt.status for attempt in seen] == [200, 200]


async def test_a_call_without_a_deadline_waits_as_long_as_it_takes(server: FakeLlamaAPI) -> None:
    """timeout=None means no overall limit: the call waits for room however long that is."""
    window = 0.3
    async with _client(
        server, RateLimit(requests_per_minute=1, window=window, adaptive=False)
    ) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await _chat(client)
        await _chat(client, timeout=None)
        assert loop.time() - started >= window


async def test_a_derived_client_shares_what_the_limiter_learned(server: FakeLlamaAPI) -> None:
    """A client made by with_options does not find out a model's limits again."""
    async with _client(server, RateLimit()) as client:
        await _chat(client)  # finds out the limits
        derived = client.with_options(max_retries=1)
        await _chat(derived)
        assert derived._transport._limiter is client._transport._limiter  # type: ignore[union-attr]
