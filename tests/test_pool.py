"""The connection pool: its size is a setting, and waiting for it counts against the call's timeout."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from llama_models import (
    APITimeoutError,
    AsyncLlamaClient,
    ClientStateError,
    InvalidArgumentError,
    LlamaClient,
)
from llama_models.testing import FakeLlamaAPI, Fault

QUEUE = "waiting for a free connection"


@pytest.mark.parametrize("cls", [AsyncLlamaClient, LlamaClient])
@pytest.mark.parametrize("value", [0, -1, True, 2.0, "2"])
def test_a_bad_pool_size_is_refused(cls: type[Any], value: object) -> None:
    """max_connections must be an int of at least 1."""
    with pytest.raises(InvalidArgumentError, match="max_connections must be an int >= 1"):
        cls(api_key="k", max_connections=value)


@pytest.mark.anyio
async def test_the_pool_holds_at_most_max_connections(server: FakeLlamaAPI) -> None:
    """Six calls at once through a pool of two use two connections, and all succeed."""
    server.enqueue(*[Fault.delay(0.2)] * 6)
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_connections=2
    ) as client:
        results = await asyncio.gather(*(client.models.list() for _ in range(6)))
    assert [len(models) for models in results] == [4] * 6
    assert len({request.connection_id for request in server.requests}) == 2


@pytest.mark.anyio
async def test_queued_calls_are_not_bound_by_connect_timeout(server: FakeLlamaAPI) -> None:
    """Calls waiting longer than connect_timeout for a pooled connection still succeed."""
    server.enqueue(*[Fault.delay(0.3)] * 4)
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        max_connections=1,
        connect_timeout=0.1,
        max_retries=0,
    ) as client:
        results = await asyncio.gather(*(client.models.list() for _ in range(4)))
    assert [len(models) for models in results] == [4] * 4


@pytest.mark.anyio
async def test_a_callers_session_queue_is_not_bound_by_connect_timeout(
    server: FakeLlamaAPI,
) -> None:
    """With the caller's session too, the wait for its pool counts against the call's timeout."""
    server.enqueue(*[Fault.delay(0.3)] * 3)
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session,
        AsyncLlamaClient(
            api_key=server.api_key,
            base_url=server.base_url,
            http_session=session,
            connect_timeout=0.1,
            max_retries=0,  # a retry after a "connect timeout" would hide the failure
        ) as client,
    ):
        results = await asyncio.gather(*(client.models.list() for _ in range(3)))
    assert [len(models) for models in results] == [4] * 3


@pytest.mark.anyio
async def test_a_call_that_times_out_in_the_queue_says_so(server: FakeLlamaAPI) -> None:
    """A call whose time runs out while it waits for a connection names the pool setting."""
    server.enqueue(Fault.stall())
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_connections=1
    ) as client:
        busy = asyncio.create_task(client.models.list())
        await server.wait_for_requests_async(1)
        with pytest.raises(APITimeoutError) as caught:
            await client.models.list(timeout=0.2)
        busy.cancel()
    message = str(caught.value)
    assert "timed out after 0.2 s " + QUEUE in message
    assert "max_connections=1" in message


@pytest.mark.anyio
async def test_a_call_that_times_out_at_the_server_does_not_blame_the_pool(
    server: FakeLlamaAPI,
) -> None:
    """A call that had its connection and waited for the server gets the plain timeout message."""
    server.enqueue(Fault.stall())
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_connections=1
    ) as client:
        with pytest.raises(APITimeoutError) as caught:
            await client.models.list(timeout=0.2)
    assert QUEUE not in str(caught.value)


def test_the_blocking_client_has_the_same_pool(threaded_server: FakeLlamaAPI) -> None:
    """The blocking client queues calls beyond max_connections and reports a queue timeout."""
    threaded_server.enqueue(*[Fault.delay(0.3)] * 3)
    with LlamaClient(
        api_key=threaded_server.api_key,
        base_url=threaded_server.base_url,
        max_connections=1,
        connect_timeout=0.1,
    ) as client:
        with ThreadPoolExecutor(max_workers=3) as pool:
            counts = list(pool.map(lambda _: len(client.models.list()), range(3)))
        assert counts == [4, 4, 4]
        threaded_server.enqueue(Fault.stall())
        with ThreadPoolExecutor(max_workers=1) as pool:
            busy = pool.submit(client.models.list)
            threaded_server.wait_for_requests(4)
            with pytest.raises(APITimeoutError, match=QUEUE):
                client.models.list(timeout=0.2)
            client.close()
            with pytest.raises(ClientStateError):
                busy.result()
