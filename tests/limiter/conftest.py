"""Fixtures for the rate-limit tests: a redis-server per session and both stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import attrs
import pytest

from llama_models._ratelimit._store import LocalRateLimitStore, RateLimitStore

from .support import ManualClock


@pytest.fixture
def anyio_backend() -> str:
    """The stores run on asyncio, the loop aiohttp (and redis-py's asyncio client) need."""
    return "asyncio"


@pytest.fixture
def prefix() -> str:
    """Keys of the test's own, so tests share the server without sharing budgets."""
    return f"test-{uuid.uuid4().hex}"


@attrs.define
class Stores:
    """Stores that share one budget, the clock they all count time with, and their kind."""

    kind: str
    clock: ManualClock
    make: Callable[[], RateLimitStore]
    opened: list[RateLimitStore] = attrs.field(factory=list)

    def new(self) -> RateLimitStore:
        """Another store sharing the budget (for Redis: another connection pool)."""
        store = self.make()
        self.opened.append(store)
        return store


@pytest.fixture(params=["local", "redis"])
async def stores(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Stores]:
    """Each store kind, counting time with a clock the test moves by hand."""
    clock = ManualClock()
    if request.param == "local":
        local = LocalRateLimitStore(clock)
        yield Stores("local", clock, lambda: local)
        return
    url = request.getfixturevalue("redis_url")
    from llama_models.redis import RedisRateLimitStore

    kit = Stores("redis", clock, lambda: RedisRateLimitStore(url, prefix=prefix, clock=clock))
    yield kit
    for store in kit.opened:
        assert isinstance(store, RedisRateLimitStore)
        await store.aclose()


@pytest.fixture
def store(stores: Stores) -> RateLimitStore:
    """A store of the kind under test."""
    return stores.new()
