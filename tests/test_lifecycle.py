"""The async client's session: lazy creation, closing, event-loop binding, cancellation."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import anyio
import pytest

from llama_models import APITimeoutError, AsyncLlamaClient, ClientStateError
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio


async def test_session_is_created_on_first_use(server: FakeLlamaAPI) -> None:
    """Constructing a client opens nothing; the first call does."""
    llama = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    before = llama._transport
    await llama.models.list()
    assert before is None
    assert llama._transport is not None
    await llama.aclose()
    assert llama.closed


async def test_closed_client_refuses_calls(client: AsyncLlamaClient) -> None:
    """After aclose() every call raises ClientStateError; closing again is harmless."""
    await client.models.list()
    await client.aclose()
    await client.aclose()
    with pytest.raises(ClientStateError, match="closed"):
        await client.models.list()


async def test_client_closed_before_use_refuses_calls(server: FakeLlamaAPI) -> None:
    """A client closed before its first call never opens a session."""
    llama = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    await llama.aclose()
    with pytest.raises(ClientStateError):
        await llama.models.list()
    assert server.requests == []


def test_client_is_bound_to_its_first_event_loop(threaded_server: FakeLlamaAPI) -> None:
    """Using a client from a second event loop raises ClientStateError, not an aiohttp error."""
    llama = AsyncLlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)

    async def first() -> None:
        await llama.models.list()

    async def second() -> None:
        with pytest.raises(ClientStateError, match="event loop"):
            await llama.models.list()
        with pytest.raises(ClientStateError, match="event loop"):
            await llama.aclose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(first())
        asyncio.run(second())
        loop.run_until_complete(llama.aclose())
    finally:
        loop.close()
    assert llama.closed


async def test_caller_session_is_used_and_never_closed(server: FakeLlamaAPI) -> None:
    """A session passed as http_session carries the requests and stays open."""
    async with aiohttp.ClientSession() as session:
        async with AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, http_session=session
        ) as llama:
            assert len(await llama.models.list()) == 4
        assert not session.closed
        assert llama.closed


async def test_closed_caller_session_is_a_clear_error(server: FakeLlamaAPI) -> None:
    """A caller session that was closed raises ClientStateError."""
    session = aiohttp.ClientSession()
    llama = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url, http_session=session)
    await llama.models.list()
    await session.close()
    with pytest.raises(ClientStateError, match="http_session is closed"):
        await llama.models.list()
    await llama.aclose()


async def test_caller_session_closed_before_first_use(server: FakeLlamaAPI) -> None:
    """A caller session that is already closed is refused on the first call."""
    session = aiohttp.ClientSession()
    await session.close()
    llama = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url, http_session=session)
    with pytest.raises(ClientStateError, match="http_session is closed"):
        await llama.models.list()


async def test_cancelled_call_leaves_no_half_read_connection(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Cancelling a call mid-body discards that connection; the next call gets a fresh one."""
    server.enqueue(Fault.stall_body())
    task = asyncio.create_task(client.models.list())
    await server.wait_for_requests_async(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await client.models.list()) == 4
    stalled, fresh = server.requests
    assert stalled.connection_id != fresh.connection_id
    connector = client._transport._binding.session.connector  # type: ignore[union-attr]
    assert connector is not None
    assert not connector._acquired  # nothing is still checked out of the pool


async def test_anyio_cancel_scope_returns_promptly(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An anyio cancel scope around a stalled call ends it at the scope's deadline."""
    server.enqueue(Fault.stall())
    with anyio.move_on_after(0.2) as scope:
        await client.models.list()
    assert scope.cancelled_caught
    assert len(await client.models.list()) == 4


async def test_timeout_mid_body_discards_the_connection(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A call that times out mid-body does not return its connection to the pool."""
    server.enqueue(Fault.stall_body())
    with pytest.raises(APITimeoutError):
        await client.models.list(timeout=0.2)
    await client.models.list()
    stalled, fresh = server.requests
    assert stalled.connection_id != fresh.connection_id


async def test_connections_are_reused_between_calls(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Sequential calls share one pooled keep-alive connection."""
    for _ in range(3):
        await client.models.list()
    assert len({request.connection_id for request in server.requests}) == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is 3.11+")
async def test_many_concurrent_calls_share_one_client(client: AsyncLlamaClient) -> None:
    """One client serves many concurrent tasks."""
    async with asyncio.TaskGroup() as group:  # type: ignore[attr-defined,unused-ignore]
        tasks = [
            group.create_task(client.models.retrieve("Llama-3.3-8B-Instruct")) for _ in range(50)
        ]
    assert {task.result().id for task in tasks} == {"Llama-3.3-8B-Instruct"}
