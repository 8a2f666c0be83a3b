"""What the Redis store adds to the contract: the server's clock, expiry, connections, arguments."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import anyio.to_thread
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot
from script_support import run_script

from llama_models import RateLimit
from llama_models._ratelimit._store import Budget, Grant, Outcome, RateLimitStore, Wait
from llama_models.errors import InvalidArgumentError
from llama_models.redis import RedisRateLimitStore
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain redis-py client of the test server, closed after the test."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisRateLimitStore]:
    """A Redis store on the server's own clock, closed after the test."""
    async with RedisRateLimitStore(redis_url, prefix=prefix) as opened:
        yield opened


async def server_time(client: aioredis.Redis) -> float:
    """The Redis server's clock, in seconds."""
    seconds, microseconds = await client.time()
    return seconds + microseconds / 1_000_000


async def test_times_come_from_the_redis_server(
    store: RedisRateLimitStore, raw: aioredis.Redis
) -> None:
    """A booking is stamped with the Redis server's time, and waits are counted from it."""
    before = await server_time(raw)
    granted = await store.acquire(MODEL, 0, Budget(1, None, 30.0))
    after = await server_time(raw)
    assert isinstance(granted, Grant)
    assert before <= granted.at <= after
    waiting = await store.acquire(MODEL, 0, Budget(1, None, 30.0))
    assert isinstance(waiting, Wait)
    assert 30.0 - (await server_time(raw) - before) <= waiting.seconds <= 30.0


async def test_a_buckets_keys_expire_after_three_idle_windows(
    store: RedisRateLimitStore, raw: aioredis.Redis, prefix: str
) -> None:
    """Every write gives the bucket's keys three windows to live; the id counter a day."""
    budget = Budget(10, 100, 2.0)
    granted = await store.acquire(MODEL, 5, budget)
    assert isinstance(granted, Grant)
    await store.report(MODEL, granted, Outcome.LIMITED, budget)
    *data, ids = store._keys(MODEL)
    assert all(key.startswith(f"{prefix}:") for key in (*data, ids))
    for key in data:
        assert 5000 < await raw.pttl(key) <= 6000, key
    assert 86_000_000 < await raw.pttl(ids) <= 86_400_000


def test_a_buckets_keys_share_one_cluster_slot() -> None:
    """All of a bucket's keys hash to one slot, so the scripts also run on a Redis Cluster."""
    store = RedisRateLimitStore("redis://localhost:6379/0")
    for bucket in (MODEL, "a{b}c", "}{", "{}", ""):
        assert len({key_slot(key.encode()) for key in store._keys(bucket)}) == 1


async def test_entry_ids_are_unique_across_connections(redis_url: str, prefix: str) -> None:
    """Bookings made at once through separate connection pools never share an id."""
    sharing = [RedisRateLimitStore(redis_url, prefix=prefix) for _ in range(3)]
    budget = Budget(None, None, 60.0)
    try:
        results = await asyncio.gather(
            *(sharing[i % 3].acquire(MODEL, 1, budget) for i in range(90))
        )
    finally:
        for store in sharing:
            await store.aclose()
    entries = [r.entry for r in results if isinstance(r, Grant)]
    assert len(entries) == len(set(entries)) == 90


async def test_prefixes_keep_separate_budgets(redis_url: str, prefix: str) -> None:
    """Stores with different prefixes on one server never share a budget."""
    budget = Budget(1, None, 60.0)
    async with (
        RedisRateLimitStore(redis_url, prefix=prefix + "-a") as first,
        RedisRateLimitStore(redis_url, prefix=prefix + "-b") as second,
    ):
        assert isinstance(await first.acquire(MODEL, 0, budget), Grant)
        assert isinstance(await second.acquire(MODEL, 0, budget), Grant)
        assert isinstance(await first.acquire(MODEL, 0, budget), Wait)


async def test_a_given_client_is_used_and_left_open(raw: aioredis.Redis, prefix: str) -> None:
    """A redis.asyncio.Redis given to the store does the work and stays open after aclose."""
    store = RedisRateLimitStore(raw, prefix=prefix)
    assert isinstance(await store.acquire(MODEL, 0, Budget(1, None, 60.0)), Grant)
    await store.aclose()
    assert await raw.exists(store._keys(MODEL)[1]) == 1


async def test_a_store_from_a_url_serves_every_event_loop(redis_url: str, prefix: str) -> None:
    """From a URL, the store opens one client per event loop, as blocking clients each run one."""
    store = RedisRateLimitStore(redis_url, prefix=prefix)
    budget = Budget(2, None, 60.0)

    async def book_and_close() -> Grant | Wait:
        try:
            return await store.acquire(MODEL, 0, budget)
        finally:
            await store.aclose()

    here = await store.acquire(MODEL, 0, budget)
    there = await anyio.to_thread.run_sync(asyncio.run, book_and_close())
    third = await store.acquire(MODEL, 0, budget)
    await store.aclose()
    assert isinstance(here, Grant)
    assert isinstance(there, Grant)
    assert isinstance(third, Wait)


CLOSED_WITH_THE_LOOP = """
    import asyncio
    import gc
    import sys

    from llama_models import AsyncLlamaClient, LlamaClient, RateLimit
    from llama_models.redis import RedisRateLimitStore

    key, base_url, redis_url, prefix = sys.argv[1:]
    store = RedisRateLimitStore(redis_url, prefix=prefix)
    limit = RateLimit(requests_per_minute=5, store=store)
    chat = {
        "model": "Llama-4-Maverick-17B-128E-Instruct-FP8",
        "messages": [{"role": "user", "content": "Hello!"}],
    }
    with LlamaClient(api_key=key, base_url=base_url, rate_limit=limit) as client:
        client.chat.completions.create(**chat)

    async def main() -> None:
        async with AsyncLlamaClient(api_key=key, base_url=base_url, rate_limit=limit) as client:
            await client.chat.completions.create(**chat)

    asyncio.run(main())
    del client, store, limit
    gc.collect()
    print("closed")
"""


def test_connections_from_a_url_close_with_their_event_loop(
    threaded_server: FakeLlamaAPI, redis_url: str, prefix: str
) -> None:
    """A blocking client's loop, or asyncio.run's, closes the store's connections as it ends."""
    result = run_script(CLOSED_WITH_THE_LOOP, threaded_server, redis_url, prefix)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "closed", "")


def test_the_store_is_a_rate_limit_store() -> None:
    """RateLimit accepts the Redis store as its store."""
    store = RedisRateLimitStore("redis://localhost:6379/0")
    assert isinstance(store, RateLimitStore)
    assert RateLimit(requests_per_minute=60, store=store).store is store


@pytest.mark.parametrize(
    ("redis", "prefix", "message"),
    [
        ("http://user:hunter2@example.com", "p", "redis://, rediss:// or unix:// URL"),
        ("hunter2", "p", "redis://, rediss:// or unix:// URL"),
        (6379, "p", "not int"),
        (None, "p", "not NoneType"),
        ("redis://localhost", "", "prefix must be a non-empty str"),
        ("redis://localhost", b"p", "prefix must be a non-empty str"),
        ("redis://localhost", "jobs{1}", "prefix must be a non-empty str without braces"),
    ],
)
def test_bad_arguments_fail_at_once_without_showing_the_url(
    redis: object, prefix: object, message: str
) -> None:
    """A wrong client, URL or prefix is refused when the store is made; a URL is never echoed."""
    with pytest.raises(InvalidArgumentError) as info:
        RedisRateLimitStore(redis, prefix=prefix)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "hunter2" not in str(info.value)


def test_the_repr_shows_the_prefix_but_not_the_url() -> None:
    """The URL, which may hold a password, stays out of the store's repr."""
    store = RedisRateLimitStore("redis://:hunter2@localhost:6379/0", prefix="jobs")
    assert repr(store) == "RedisRateLimitStore(prefix='jobs')"
    assert store.prefix == "jobs"


def test_importing_llama_models_does_not_import_redis() -> None:
    """redis-py is loaded by llama_models.redis only, never by the package itself."""
    code = (
        "import sys, llama_models\n"
        "from llama_models import RateLimit\n"
        "RateLimit(requests_per_minute=1)\n"
        "print('redis' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
