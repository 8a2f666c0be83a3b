"""``llama_models.redis`` as users write it; see ``api.py``. Type-checked, never run."""

from __future__ import annotations

import redis.asyncio
from typing_extensions import assert_type

from llama_models import AsyncLlamaClient, LlamaClient, RateLimit, RateLimitStore
from llama_models.redis import RedisRateLimitStore

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


async def many_processes_one_budget() -> None:
    async with RedisRateLimitStore("redis://redis.internal:6379/0", prefix="team-a") as store:
        assert_type(store, RedisRateLimitStore)
        assert_type(store.prefix, str)
        shared: RateLimitStore = store
        limit = RateLimit(requests_per_minute=3000, tokens_per_minute=1_000_000, store=shared)
        async with AsyncLlamaClient(rate_limit=limit) as client:
            await client.chat.completions.create(model=MODEL, messages=HELLO)


async def a_client_of_your_own(connection: redis.asyncio.Redis) -> None:
    store = RedisRateLimitStore(connection)
    with LlamaClient(rate_limit=RateLimit(requests_per_minute=60, store=store)) as client:
        client.chat.completions.create(model=MODEL, messages=HELLO)
    await store.aclose()  # leaves `connection` open


# -- negative cases ---------------------------------------------------------------------


def mistakes() -> None:
    RedisRateLimitStore(6379)  # type: ignore[arg-type]
    RedisRateLimitStore("redis://localhost", "prefix")  # type: ignore[call-arg]
