"""A rate-limit store that fails: a typed error before sending, and no answer lost after."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llama_models import AsyncLlamaClient, LocalRateLimitStore, RateLimit, RateLimitStoreError
from llama_models._ratelimit._store import Budget, Grant, Outcome
from llama_models.redis import RedisRateLimitStore
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "Hello!"}]


class ForgetfulStore(LocalRateLimitStore):
    """Books as the local store does, and fails to record anything afterwards."""

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
        raise ConnectionError("the store went away")


async def test_an_unreachable_redis_fails_the_call_before_sending(tmp_path: Path) -> None:
    """A Redis store that cannot be reached gives RateLimitStoreError, and nothing is sent."""
    store = RedisRateLimitStore(f"unix://{tmp_path}/nothing-here.sock")
    async with FakeLlamaAPI() as fake:
        async with (
            store,
            AsyncLlamaClient(
                api_key=fake.api_key, base_url=fake.base_url, rate_limit=RateLimit(store=store)
            ) as client,
        ):
            with pytest.raises(RateLimitStoreError, match="Redis store failed") as caught:
                await client.chat.completions.create(model=MODEL, messages=HELLO)
        assert fake.requests == []
    assert "nothing-here.sock" not in repr(store)
    assert caught.value.__cause__ is not None


async def test_a_store_failing_after_the_answer_loses_no_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the store cannot record an answer, the call still returns it, and a warning says so."""
    limit = RateLimit(requests_per_minute=10, store=ForgetfulStore())
    async with (
        FakeLlamaAPI() as fake,
        AsyncLlamaClient(api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit) as client,
    ):
        with caplog.at_level(logging.WARNING, logger="llama_models"):
            completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.text
    assert "could not record an answer (ConnectionError: the store went away)" in caplog.text
