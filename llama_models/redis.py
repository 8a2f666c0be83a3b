"""A rate-limit store in Redis: one budget for many processes and machines.

Needs the ``redis`` extra (``pip install 'llama-models-client[redis]'``, which
installs redis-py); importing `llama_models` alone never imports it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

try:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript
except ImportError as exc:  # pragma: no cover - the extra is installed where this is tested
    raise ImportError(
        "llama_models.redis needs redis-py: pip install 'llama-models-client[redis]'"
    ) from exc

from . import errors
from ._ratelimit import _lua, _store

__all__ = ["RedisRateLimitStore"]

_SCRIPTS = {"acquire": _lua.ACQUIRE, "report": _lua.REPORT, "settle": _lua.SETTLE}

_URL_SCHEMES = ("redis://", "rediss://", "unix://")


class RedisRateLimitStore:
    """Keeps rate-limit budgets in Redis, shared by every process that uses the same keys.

    Give it to `llama_models.RateLimit` as ``store=``: clients in many
    processes, on many machines, then keep to one budget per model and wait out
    one shared pause after a 429, exactly as the clients of one process do with
    the default store. Each operation is one Lua script, so one atomic round
    trip, and times come from the Redis server's clock, so the machines' clocks
    need not agree. A bucket's keys expire after three idle windows.

    The store works with any Redis server from 5.0 on (and a Redis Cluster: a
    bucket's keys share a hash tag).

    Args:
        redis: the URL of the Redis server (``redis://``, ``rediss://`` or
            ``unix://``), or a ``redis.asyncio.Redis`` client, which stays
            yours to close. From a URL the store opens a client per event loop
            it is used on (a redis-py client belongs to one loop, and each
            blocking `llama_models.LlamaClient` runs its own) and closes it when
            that loop ends; `aclose` closes it sooner.
        prefix: the start of every key; stores with the same prefix share their
            budgets, and another prefix keeps a separate set.
        clock: for tests: a clock (seconds) to use instead of the Redis
            server's, so that a test can move time by hand.
    """

    def __init__(
        self,
        redis: aioredis.Redis | str,
        *,
        prefix: str = "llama-models:ratelimit",
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(redis, str):
            if not redis.startswith(_URL_SCHEMES):
                # The URL may hold a password: it is named, never shown.
                raise errors.InvalidArgumentError(
                    "redis must be a redis://, rediss:// or unix:// URL or a "
                    "redis.asyncio.Redis client"
                )
            self._owned: _PerLoop | None = _PerLoop(redis)
            self._given: aioredis.Redis | None = None
        elif isinstance(redis, aioredis.Redis):
            self._owned = None
            self._given = redis
        else:
            raise errors.InvalidArgumentError(
                "redis must be a redis.asyncio.Redis client or a redis:// URL, "
                f"not {type(redis).__name__}"
            )
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise errors.InvalidArgumentError(
                f"prefix must be a non-empty str without braces, not {prefix!r}"
            )
        if clock is not None and not callable(clock):
            raise errors.InvalidArgumentError(f"clock must be callable or None, not {clock!r}")
        self._prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._scripts: dict[str, AsyncScript] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self._prefix!r})"

    @property
    def prefix(self) -> str:
        """The start of every key the store uses."""
        return self._prefix

    def _keys(self, bucket: str) -> list[str]:
        # The hash tag, from the first "{" to the next "}", is never empty (so never the
        # whole key) and the same for each of the bucket's keys, whatever the bucket holds.
        base = f"{self._prefix}:{{:{bucket}}}"
        return [f"{base}:{name}" for name in ("state", "requests", "tokens", "sizes", "ids")]

    async def _run(self, name: str, bucket: str, args: Sequence[str | int]) -> Any:
        try:
            return await self._run_script(name, bucket, args)
        except aioredis.RedisError as exc:
            raise errors.RateLimitStoreError(
                f"the rate limit's Redis store failed: {type(exc).__name__}: {exc}"
            ) from exc

    async def _run_script(self, name: str, bucket: str, args: Sequence[str | int]) -> Any:
        if self._owned is not None:
            client = await self._owned.get()
        else:
            assert self._given is not None
            client = self._given
        with self._lock:
            if self._scripts is None:
                # A script is its text and SHA; it runs on whichever client is passed.
                self._scripts = {
                    key: client.register_script(text) for key, text in _SCRIPTS.items()
                }
            script = self._scripts[name]
        return await script(keys=self._keys(bucket), args=args, client=client)

    def _now(self) -> str:
        return "" if self._clock is None else repr(float(self._clock()))

    async def acquire(
        self, bucket: str, tokens: int, budget: _store.Budget
    ) -> _store.Grant | _store.Wait:
        """Book one request of *tokens* tokens in *bucket* if *budget* and the backoff allow."""
        reply = await self._run("acquire", bucket, [self._now(), *_budget_args(budget), tokens])
        kind, first, second = (_text(part) for part in reply)
        if kind == "grant":
            return _store.Grant(first, float(second), tokens)
        return _store.Wait(float(first), known=second == "1")

    async def report(
        self,
        bucket: str,
        grant: _store.Grant,
        outcome: _store.Outcome,
        budget: _store.Budget,
        *,
        server_wait: float | None = None,
        remaining_requests: int | None = None,
        remaining_tokens: int | None = None,
    ) -> _store.Grant:
        """Record what became of *grant*, and what the server said of the budget.

        See `llama_models.RateLimitStore.report`: one script does it all,
        atomically, on the Redis server's clock. Returns *grant*: Redis finds a
        booking by its id.
        """
        args = [
            self._now(),
            *_budget_args(budget),
            grant.entry,
            repr(float(grant.at)),
            outcome.value,
            _optional(server_wait),
            _optional(remaining_requests),
            _optional(remaining_tokens),
        ]
        await self._run("report", bucket, args)
        return grant

    async def settle(self, bucket: str, grant: _store.Grant, tokens: int) -> None:
        """Replace *grant*'s estimated tokens by the count its answer reported."""
        await self._run("settle", bucket, [grant.entry, tokens])

    async def aclose(self) -> None:
        """Close the connections the store opened (from a URL) on the running event loop.

        Optional where the loop ends with `asyncio.run` (or a blocking
        `llama_models.LlamaClient` closes): they are closed then. The store stays
        usable; it connects again when next used. A ``redis.asyncio.Redis``
        client given to the store is left open: it is the caller's to close.
        """
        if self._owned is not None:
            await self._owned.aclose()

    async def __aenter__(self) -> RedisRateLimitStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _PerLoop:
    """The clients a store opened from a URL: one per event loop, closed with the loop.

    A redis-py asyncio client belongs to the loop it first connected on, and
    each blocking client runs a loop of its own.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._clients: dict[
            asyncio.AbstractEventLoop, tuple[aioredis.Redis, AsyncGenerator[None, None]]
        ] = {}

    async def get(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._clients.get(loop)
            if found is not None:
                return found[0]
            client = aioredis.Redis.from_url(self._url)
            closer = self._closer(loop, client)
            self._clients[loop] = (client, closer)
        # Started here, the generator is one of those the loop finalizes as it shuts
        # down (asyncio.run and blocking clients' portals do), closing the client then.
        await closer.asend(None)
        return client

    async def _closer(
        self, loop: asyncio.AbstractEventLoop, client: aioredis.Redis
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                if self._clients.get(loop, (None,))[0] is client:
                    del self._clients[loop]
            await client.aclose()

    async def aclose(self) -> None:
        with self._lock:
            found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found[1].aclose()


def _budget_args(budget: _store.Budget) -> list[str]:
    return [repr(float(budget.window)), _optional(budget.requests), _optional(budget.tokens)]


def _optional(value: float | None) -> str:
    return "" if value is None else repr(value)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
