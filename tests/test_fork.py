"""Fork: a client that has made no call yet works in children; a used one fails there clearly."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys

import pytest

from llama_models import AsyncLlamaClient, ClientStateError, LlamaClient
from llama_models.testing import FakeLlamaAPI

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="there is no fork on Windows"),
    # Python 3.12+ warns that forking a process with threads (the fake server's) may deadlock.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

#: A module-level client, as a worker pool or gunicorn --preload inherits it.
shared: LlamaClient | AsyncLlamaClient | None = None


def count_models(_: int) -> int:
    """Run in a pool worker: one call on the inherited client."""
    assert shared is not None
    if isinstance(shared, LlamaClient):
        return len(shared.models.list())
    return asyncio.run(_count_async(shared))


async def _count_async(client: AsyncLlamaClient) -> int:
    return len(await client.models.list())


@pytest.mark.parametrize("cls", [LlamaClient, AsyncLlamaClient])
def test_an_unused_client_works_in_forked_workers(
    threaded_server: FakeLlamaAPI, cls: type[LlamaClient | AsyncLlamaClient]
) -> None:
    """A module-level client made before a fork pool starts serves every worker, and the parent."""
    global shared
    shared = cls(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    try:
        # A new worker for each task: an async client serves one event loop per process.
        with multiprocessing.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
            assert pool.map(count_models, range(4), chunksize=1) == [4, 4, 4, 4]
    finally:
        client, shared = shared, None
    if isinstance(client, LlamaClient):
        with client:
            assert len(client.models.list()) == 4
    else:
        asyncio.run(_count_and_close(client))


async def _count_and_close(client: AsyncLlamaClient) -> None:
    async with client:
        assert len(await client.models.list()) == 4


def test_a_used_async_client_fails_clearly_in_a_forked_child(
    threaded_server: FakeLlamaAPI,
) -> None:
    """An async client used before the fork raises ClientStateError in the child; the parent goes on."""

    async def main() -> None:
        client = AsyncLlamaClient(
            api_key=threaded_server.api_key, base_url=threaded_server.base_url
        )
        async with client:
            await client.models.list()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which exits without coverage
                code = 2
                try:
                    asyncio.run(_count_async(client))
                except ClientStateError as exc:
                    code = 0 if "forked child" in str(exc) else 3
                finally:
                    os._exit(code)
            _, status = await asyncio.to_thread(os.waitpid, pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert len(await client.models.list()) == 4

    asyncio.run(main())
