"""Specification of the fake server's enforced rate limits (`RateLimitRule`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from llama_models import AsyncLlamaClient, RateLimitError
from llama_models.testing import ChatReply, FakeLlamaAPI, RateLimitRule, RateLimitStats

from .chat_support import AUTH, MODEL, STREAM_HEADERS, chat, post

OTHER_MODEL = "Llama-3.3-8B-Instruct"
RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
)
TOO_MANY_REQUESTS = {
    "title": "Too Many Requests",
    "detail": "You have exceeded the maximum number of requests allowed within a given time "
    "frame. Wait a bit and try again.",
    "status": 429,
}
#: "Hello, world!" is 2 prompt tokens; the default reply "You said: Hello, world!" is 4.
PROMPT_TOKENS = 2
COMPLETION_TOKENS = 4


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fresh hand-moved clock."""
    return Clock()


@pytest.fixture
async def limited(clock: Clock) -> AsyncIterator[FakeLlamaAPI]:
    """A server allowing 3 chat completions per model in any 60 s of the test's clock."""
    async with FakeLlamaAPI(rate_limit=RateLimitRule(requests=3), clock=clock) as server:
        yield server


async def send(
    session: aiohttp.ClientSession, api: FakeLlamaAPI, model: str = MODEL
) -> tuple[int, Mapping[str, str], Any]:
    """Send the default chat completion; return status, headers and the decoded body."""
    status, headers, raw = await post(
        session, f"{api.base_url}/chat/completions", chat(model=model)
    )
    return status, headers, json.loads(raw)


def limits(headers: Mapping[str, str]) -> list[str]:
    """The four rate-limit headers, in the order of RATE_LIMIT_HEADERS."""
    return [headers[name] for name in RATE_LIMIT_HEADERS]


@pytest.mark.anyio
async def test_the_request_over_the_limit_gets_the_real_429(
    limited: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """N requests are admitted, counting down; the N+1th gets the API's 429 body and headers."""
    remaining = []
    for _ in range(3):
        status, headers, _ = await send(session, limited)
        assert status == 200
        remaining.append(headers["x-ratelimit-remaining-requests"])
    assert remaining == ["2", "1", "0"]
    status, headers, body = await send(session, limited)
    assert (status, body) == (429, TOO_MANY_REQUESTS)
    assert headers["Content-Type"] == "application/json"
    used = 3 * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert limits(headers) == ["3", "0", "2500000", str(2_500_000 - used)]
    assert "retry-after" not in headers
    assert limited.rate_limit_stats == {MODEL: RateLimitStats(admitted=3, rejected=1, tokens=used)}


@pytest.mark.anyio
async def test_admission_resumes_as_the_window_slides(
    limited: FakeLlamaAPI, session: aiohttp.ClientSession, clock: Clock
) -> None:
    """A slot frees exactly `window` seconds after its request; refused requests use none."""
    for _ in range(3):
        assert (await send(session, limited))[0] == 200
        clock.now += 1.0
    clock.now = 1000.0 + 59.99
    assert [(await send(session, limited))[0] for _ in range(5)] == [429] * 5
    clock.now = 1000.0 + 60.0  # the first request leaves the window
    assert [(await send(session, limited))[0] for _ in range(2)] == [200, 429]
    clock.now = 1000.0 + 61.0  # and the second
    status, headers, _ = await send(session, limited)
    assert (status, headers["x-ratelimit-remaining-requests"]) == (200, "0")
    assert limited.rate_limit_stats[MODEL].rejected == 6


@pytest.mark.anyio
async def test_prompt_tokens_must_fit_and_completion_tokens_count_afterwards(
    clock: Clock, session: aiohttp.ClientSession
) -> None:
    """The prompt's tokens must fit at admission; the reply's are counted once it is made."""
    rule = RateLimitRule(tokens=10, window=3.0)
    async with FakeLlamaAPI(rate_limit=rule, clock=clock) as api:
        status, headers, _ = await send(session, api)
        assert (status, headers["x-ratelimit-remaining-tokens"]) == (200, "8")  # 10 - 2
        status, headers, _ = await send(session, api)
        assert (status, headers["x-ratelimit-remaining-tokens"]) == (200, "2")  # 10 - 6 - 2
        status, headers, body = await send(session, api)
        assert status == 429
        assert body["detail"].startswith("You have exceeded the maximum number of tokens allowed")
        assert limits(headers) == ["3000", "2998", "10", "0"]
        clock.now += 3.0
        assert (await send(session, api))[0] == 200
        assert api.rate_limit_stats[MODEL] == RateLimitStats(admitted=3, rejected=1, tokens=18)


@pytest.mark.anyio
async def test_each_model_has_its_own_window(
    limited: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Spending one model's requests leaves another model's untouched."""
    statuses = [(await send(session, limited))[0] for _ in range(4)]
    status, headers, _ = await send(session, limited, OTHER_MODEL)
    assert statuses == [200, 200, 200, 429]
    assert (status, headers["x-ratelimit-remaining-requests"]) == (200, "2")
    assert {model: (s.admitted, s.rejected) for model, s in limited.rate_limit_stats.items()} == {
        MODEL: (3, 1),
        OTHER_MODEL: (1, 0),
    }


@pytest.mark.anyio
async def test_retry_after_is_sent_only_when_asked(
    clock: Clock, session: aiohttp.ClientSession
) -> None:
    """With retry_after=True a 429 says, in whole seconds rounded up, when a slot frees."""
    rule = RateLimitRule(requests=1, retry_after=True)
    async with FakeLlamaAPI(rate_limit=rule, clock=clock) as api:
        assert (await send(session, api))[0] == 200
        clock.now += 20.5
        status, headers, _ = await send(session, api)
    assert (status, headers["retry-after"]) == (429, "40")


@pytest.mark.anyio
async def test_a_refused_stream_is_a_json_429_and_keeps_the_reply(
    clock: Clock, session: aiohttp.ClientSession
) -> None:
    """A streamed request over the limit gets the JSON 429, and the queued reply waits."""
    async with FakeLlamaAPI(rate_limit=RateLimitRule(requests=1), clock=clock) as api:
        assert (await send(session, api))[0] == 200
        api.enqueue_replies(ChatReply.text("later"))
        url = f"{api.base_url}/chat/completions"
        status, headers, raw = await post(session, url, chat(stream=True), STREAM_HEADERS)
        assert (status, headers["Content-Type"], json.loads(raw)) == (
            429,
            "application/json",
            TOO_MANY_REQUESTS,
        )
        assert api.pending_replies == 1


@pytest.mark.anyio
async def test_under_a_rule_only_chat_completions_are_limited_and_report(
    clock: Clock, session: aiohttp.ClientSession
) -> None:
    """Moderations and models are neither limited nor given x-ratelimit-* headers."""
    async with FakeLlamaAPI(rate_limit=RateLimitRule(requests=1), clock=clock) as api:
        moderation = {"messages": chat()["messages"]}
        url = f"{api.base_url}/moderations"
        answers = [await post(session, url, moderation) for _ in range(3)]
        async with session.get(f"{api.base_url}/models", headers=AUTH) as response:
            models_headers = response.headers
        status, headers, _ = await send(session, api)
    assert [status for status, _, _ in answers] == [200, 200, 200]
    for answer_headers in (*(h for _, h, _ in answers), models_headers):
        assert not set(RATE_LIMIT_HEADERS) & set(answer_headers)
    assert (status, limits(headers)) == (200, ["1", "0", "2500000", str(2_500_000 - 2)])
    assert list(api.rate_limit_stats) == [MODEL]


@pytest.mark.anyio
async def test_without_a_rule_nothing_is_refused_but_everything_is_counted(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """The default server reports a window on every answer, refuses nothing, counts completions."""
    statuses = [(await send(session, api))[0] for _ in range(12)]
    async with session.get(f"{api.base_url}/models", headers=AUTH) as response:
        headers = response.headers
    assert statuses == [200] * 12
    assert headers["x-ratelimit-remaining-requests"] == str(3000 - 13)
    tokens = 12 * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert headers["x-ratelimit-remaining-tokens"] == str(2_500_000 - tokens)
    assert api.rate_limit_stats == {MODEL: RateLimitStats(admitted=12, rejected=0, tokens=tokens)}


@pytest.mark.anyio
async def test_the_sdk_sees_a_rate_limit_error_without_a_wait(clock: Clock) -> None:
    """Through the SDK the 429 is a RateLimitError with the parsed headers and no retry_after."""
    async with (
        FakeLlamaAPI(rate_limit=RateLimitRule(requests=1, tokens=100), clock=clock) as api,
        AsyncLlamaClient(api_key=api.api_key, base_url=api.base_url, max_retries=0) as client,
    ):
        messages = [{"role": "user", "content": "Hello, world!"}]
        await client.chat.completions.create(model=MODEL, messages=messages)
        with pytest.raises(RateLimitError) as caught:
            await client.chat.completions.create(model=MODEL, messages=messages)
    error = caught.value
    assert (error.status_code, error.retry_after) == (429, None)
    assert error.rate_limit is not None
    assert (error.rate_limit.limit_requests, error.rate_limit.remaining_requests) == (1, 0)
    assert (error.rate_limit.limit_tokens, error.rate_limit.remaining_tokens) == (100, 94)


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"requests": 0}, ValueError, "requests must be >= 1"),
        ({"tokens": -5}, ValueError, "tokens must be >= 1"),
        ({"requests": 2.5}, TypeError, "requests must be an int"),
        ({"tokens": True}, TypeError, "tokens must be an int"),
        ({"window": 0}, ValueError, "window must be a finite number"),
        ({"window": float("inf")}, ValueError, "window must be a finite number"),
        ({"window": "60"}, TypeError, "window must be a number"),
    ],
    ids=str,
)
def test_a_bad_rule_is_refused(fields: dict[str, Any], error: type[Exception], match: str) -> None:
    """Limits below one, and windows that are not finite positive numbers, raise at once."""
    with pytest.raises(error, match=match):
        RateLimitRule(**fields)


def test_a_rule_is_a_value_and_the_server_checks_what_it_gets() -> None:
    """A rule keeps its window as a float; the server refuses a non-rule and a non-callable clock."""
    assert RateLimitRule(window=3) == RateLimitRule(window=3.0)
    assert RateLimitRule().window == 60.0
    with pytest.raises(TypeError, match="RateLimitRule"):
        FakeLlamaAPI(rate_limit=10)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clock"):
        FakeLlamaAPI(clock=1.0)  # type: ignore[arg-type]
