"""Many processes, one budget: clients in separate interpreters keep to a Redis-kept limit."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack

from aiohttp import web
from script_support import HANG, script_command

from llama_models.testing import FakeLlamaAPI

PROCESSES = 4
CALLS = 40  # per process: 160 calls at 60 per window take three windows
LIMIT = 60
WINDOW = 2.0  # the minute, scaled down

WORKER = """
    import asyncio
    import sys

    from llama_models import AsyncLlamaClient, RateLimit
    from llama_models.redis import RedisRateLimitStore

    key, base_url, redis_url, prefix, calls = sys.argv[1:]

    async def main() -> None:
        async with RedisRateLimitStore(redis_url, prefix=prefix) as store:
            limit = RateLimit(requests_per_minute=60, window=2.0, store=store)
            async with AsyncLlamaClient(
                api_key=key, base_url=base_url, rate_limit=limit
            ) as client:
                for _ in range(int(calls)):
                    await client.chat.completions.create(
                        model="Llama-4-Maverick-17B-128E-Instruct-FP8",
                        messages=[{"role": "user", "content": "Hello!"}],
                    )
        print("done", calls)

    asyncio.run(main())
"""


def most_in_any_window(arrivals: list[float], window: float) -> int:
    """The largest number of *arrivals* within any stretch of *window* seconds."""
    times = sorted(arrivals)
    most = start = 0
    for end, arrived in enumerate(times):
        while arrived - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_most_in_any_window_counts_a_sliding_window() -> None:
    """The checker counts arrivals in every window, not in windows with fixed edges."""
    assert most_in_any_window([0.0, 1.5, 2.5, 3.0], 2.0) == 3
    assert most_in_any_window([0.0, 2.0, 4.0], 2.0) == 1
    assert most_in_any_window([], 2.0) == 0


def test_four_processes_stay_within_one_60_rpm_budget(redis_url: str, prefix: str) -> None:
    """Four processes, each with its own client and a Redis store, send at most 60 per window.

    The fake server stamps each chat completion as it arrives; no window of the
    budget's length may hold more than 60 of them, and every call succeeds.
    """
    arrivals: list[float] = []

    @web.middleware
    async def stamp(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.endswith("/chat/completions"):
            arrivals.append(time.monotonic())
        return await handler(request)

    fake = FakeLlamaAPI()
    fake.app.middlewares.append(stamp)
    with fake, ExitStack() as stack:
        workers = [
            stack.enter_context(
                subprocess.Popen(
                    script_command(WORKER, fake, redis_url, prefix, str(CALLS)),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for _ in range(PROCESSES)
        ]
        try:
            outputs = [worker.communicate(timeout=HANG * 3) for worker in workers]
        finally:
            for worker in workers:  # a hung worker must not hang the test run
                worker.kill()
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert out.split() == ["done", str(CALLS)], err
    assert len(arrivals) == PROCESSES * CALLS
    assert most_in_any_window(arrivals, WINDOW) <= LIMIT
