"""InFlight: one timer per client, cancellations that are timeouts and ones that are not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from llama_models import APITimeoutError, AsyncLlamaClient
from llama_models._inflight import InFlight
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio
needs_asyncio_timeout = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="asyncio.timeout is Python 3.11+"
)


async def test_expired_call_is_cancelled_and_reported_as_a_timeout() -> None:
    """A task past its deadline is cancelled, and leave() says the cancellation was ours."""
    loop = asyncio.get_running_loop()
    inflight = InFlight(loop)
    outcome: list[str | None] = []

    async def call() -> None:
        task = asyncio.current_task()
        assert task is not None
        inflight.enter(task, loop.time() + 0.05)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append(inflight.leave(task))

    await asyncio.create_task(call())
    assert outcome == ["timeout"]


async def test_foreign_cancellation_is_not_a_timeout() -> None:
    """A cancellation that did not come from the deadline passes through as itself."""
    loop = asyncio.get_running_loop()
    inflight = InFlight(loop)
    started = asyncio.Event()
    outcome: list[str | None] = []

    async def call() -> None:
        task = asyncio.current_task()
        assert task is not None
        inflight.enter(task, loop.time() + 60)
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append(inflight.leave(task))
            raise

    task = asyncio.create_task(call())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcome == [None]


async def test_an_earlier_deadline_rearms_the_timer(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A short call started after a long one still times out on time."""
    server.enqueue(Fault.stall(), Fault.stall())
    slow = asyncio.create_task(client.models.list(timeout=30))
    await server.wait_for_requests_async(1)
    with pytest.raises(APITimeoutError, match=r"after 0\.2 s"):
        await client.models.list(timeout=0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow


@needs_asyncio_timeout
async def test_timeout_inside_an_outer_timeout_stays_ours(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The client's timeout inside a longer asyncio.timeout raises APITimeoutError, not the outer one."""
    server.enqueue(Fault.stall())
    async with asyncio.timeout(30):  # type: ignore[attr-defined,unused-ignore]
        with pytest.raises(APITimeoutError):
            await client.models.list(timeout=0.2)
        assert len(await client.models.list()) == 4


@needs_asyncio_timeout
async def test_outer_timeout_shorter_than_the_call_wins(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A caller's shorter asyncio.timeout cancels the call and raises its own TimeoutError."""
    server.enqueue(Fault.stall())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):  # type: ignore[attr-defined,unused-ignore]
            await client.models.list(timeout=30)
    assert len(await client.models.list()) == 4
