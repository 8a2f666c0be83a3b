"""One event loop per async client, bound by its first call, first come first served."""

from __future__ import annotations

import asyncio
import threading

import pytest

from llama_models import AsyncChatCompletionStream, AsyncLlamaClient, ClientStateError
from llama_models.testing import FakeLlamaAPI

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]


def test_two_loops_racing_for_a_new_client_bind_exactly_one(
    threaded_server: FakeLlamaAPI,
) -> None:
    """Two threads making the first call at once: one call works, the other is refused."""
    for _ in range(10):
        client = AsyncLlamaClient(
            api_key=threaded_server.api_key, base_url=threaded_server.base_url
        )
        start = threading.Barrier(2)
        outcomes: list[object] = []

        async def first_call(client: AsyncLlamaClient = client) -> object:
            try:
                return len(await client.models.list())
            except ClientStateError as exc:
                return exc

        def run(
            start: threading.Barrier = start,
            client: AsyncLlamaClient = client,
            outcomes: list[object] = outcomes,
        ) -> None:
            loop = asyncio.new_event_loop()
            start.wait()
            try:
                outcome = loop.run_until_complete(first_call(client))
                outcomes.append(outcome)
                start.wait()  # both have tried before the client closes
                if not isinstance(outcome, ClientStateError):  # the winner closes the client
                    loop.run_until_complete(client.aclose())
            finally:
                loop.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(map(type, outcomes), key=str) == sorted([int, ClientStateError], key=str)
        (refusal,) = [outcome for outcome in outcomes if isinstance(outcome, ClientStateError)]
        assert "bound to the event loop it was first used on" in str(refusal)
        assert client.closed


def test_a_stream_read_on_another_loop_is_refused(threaded_server: FakeLlamaAPI) -> None:
    """A stream opened on one loop and read on another raises ClientStateError, not RuntimeError."""
    client = AsyncLlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)

    async def open_stream() -> AsyncChatCompletionStream:
        return await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)

    first = asyncio.new_event_loop()
    try:
        stream = first.run_until_complete(open_stream())

        async def read() -> None:
            async for _ in stream:
                pass

        with pytest.raises(ClientStateError, match="belongs to the event loop it was opened on"):
            asyncio.run(read())
        first.run_until_complete(stream.aclose())
        first.run_until_complete(client.aclose())
    finally:
        first.close()
