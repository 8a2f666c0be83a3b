"""``AsyncLlamaClient.batch``: bounded concurrency, per-item errors, order, progress, cancelling."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from batch_support import MODEL, Gate, Pulled, batch_tasks, chat_item

from llama_models import (
    APITimeoutError,
    AsyncLlamaClient,
    BadRequestError,
    BatchProgress,
    BatchRequest,
    BatchResult,
    ChatCompletion,
    ClientStateError,
    InvalidArgumentError,
    Moderation,
)
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gate() -> AsyncIterator[Gate]:
    """A gate holding chat requests; whatever is still held is let through at the end."""
    held = Gate()
    yield held
    held.release_all()


@pytest.fixture
async def gated(gate: Gate) -> AsyncIterator[AsyncLlamaClient]:
    """A client of a fake server on the test's loop whose chat requests wait at `gate`."""
    fake = FakeLlamaAPI()
    fake.app.middlewares.append(gate.middleware)
    async with (
        fake,
        AsyncLlamaClient(api_key=fake.api_key, base_url=fake.base_url) as llama,
    ):
        yield llama
        gate.release_all()


async def _collect(results: AsyncIterator[BatchResult]) -> list[BatchResult]:
    return [result async for result in results]


async def test_every_request_gets_a_result_with_its_id_and_index(
    client: AsyncLlamaClient,
) -> None:
    """Each request yields one successful result carrying its custom_id and input position."""
    items = [chat_item(f"hello {n}", f"id-{n}") for n in range(12)]
    async with client.batch(items, concurrency=4) as results:
        found = await _collect(results)
    assert sorted(result.index for result in found) == list(range(12))
    for result in found:
        assert result.ok
        assert result.error is None
        assert result.custom_id == f"id-{result.index}"
        assert isinstance(result.response, ChatCompletion)
        assert result.response.text == f"You said: hello {result.index}"


async def test_no_more_than_concurrency_requests_reach_the_server_at_once(
    gated: AsyncLlamaClient, gate: Gate
) -> None:
    """With concurrency=3 the server holds three requests at a time, never a fourth."""
    items = [chat_item(f"q{n}") for n in range(10)]
    async with gated.batch(items, concurrency=3) as results:
        reader = asyncio.ensure_future(_collect(results))
        for released in range(10):
            held = await gate.wait_held(min(3, 10 - released))
            gate.release(min(held, key=lambda text: int(text[1:])))
        found = await asyncio.wait_for(reader, 20)
    assert gate.peak == 3
    assert len(found) == 10


async def test_unordered_results_come_as_requests_end(gated: AsyncLlamaClient, gate: Gate) -> None:
    """Without ordered, a request that ends first is yielded first."""
    ended: asyncio.Queue[BatchProgress] = asyncio.Queue()
    items = [chat_item(text, text) for text in ("a", "b", "c")]
    async with gated.batch(items, concurrency=3, on_progress=ended.put_nowait) as results:
        reader = asyncio.ensure_future(_collect(results))
        await gate.wait_held(3)
        for text in ("c", "b", "a"):
            gate.release(text)
            await asyncio.wait_for(ended.get(), 20)
        found = await asyncio.wait_for(reader, 20)
    assert [result.custom_id for result in found] == ["c", "b", "a"]


async def test_ordered_results_follow_the_input_order(gated: AsyncLlamaClient, gate: Gate) -> None:
    """With ordered=True results come in input order even when later requests end first."""
    items = [chat_item(text, text) for text in ("a", "b", "c")]
    async with gated.batch(items, concurrency=3, ordered=True) as results:
        reader = asyncio.ensure_future(_collect(results))
        await gate.wait_held(3)
        for text in ("c", "b", "a"):
            gate.release(text)
        found = await asyncio.wait_for(reader, 20)
    assert [(result.index, result.custom_id) for result in found] == [
        (0, "a"),
        (1, "b"),
        (2, "c"),
    ]


BAD_ITEMS: list[tuple[object, str]] = [
    (chat_item("x") | {"body": {"model": MODEL, "messages": []}}, "at least one message"),
    ({"body": {"messages": [{"role": "user", "content": "hi"}]}}, "model must be"),
    (
        {"body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "top_p": 7}},
        "top_p must be between 0 and 1",
    ),
    (chat_item("x") | {"body": {**chat_item("x")["body"], "stream": True}}, "streaming"),
    (chat_item("x") | {"url": "/v1/embeddings"}, "url must be one of"),
    (chat_item("x") | {"method": "GET"}, "method must be 'POST'"),
    (chat_item("x") | {"custom_id": 7}, "custom_id must be a str"),
    ({"custom_id": "no-body"}, "needs a 'body'"),
    ({"body": "text"}, "body must be a JSON object"),
    ("just a string", "must be a BatchRequest or a dict"),
    (
        BatchRequest(body={"messages": [], "categories": []}, url="/v1/moderations"),
        "a moderation body has the fields messages and model",
    ),
]


@pytest.mark.parametrize(("item", "message"), BAD_ITEMS)
async def test_a_malformed_request_is_its_own_error_and_sends_nothing(
    client: AsyncLlamaClient, server: FakeLlamaAPI, item: object, message: str
) -> None:
    """A bad request becomes that item's InvalidArgumentError; the others are sent and succeed."""
    items = [chat_item("before", "before"), item, chat_item("after", "after")]
    async with client.batch(items, concurrency=1, ordered=True) as results:
        found = await _collect(results)
    assert [result.ok for result in found] == [True, False, True]
    assert isinstance(found[1].error, InvalidArgumentError)
    assert message in str(found[1].error)
    assert found[1].response is None
    assert len(server.requests) == 2


async def test_a_server_error_is_the_items_error_and_the_batch_goes_on(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 400 from the server ends up on its item as BadRequestError; the rest still succeed."""
    server.enqueue(Fault.error(400, "no such thing"), path="/v1/chat/completions")
    items = [chat_item(f"q{n}", f"q{n}") for n in range(4)]
    async with client.batch(items, concurrency=1, ordered=True) as results:
        found = await _collect(results)
    assert isinstance(found[0].error, BadRequestError)
    assert found[0].error.status_code == 400
    assert [result.ok for result in found] == [False, True, True, True]


async def test_moderations_and_extra_fields_go_through_their_own_methods(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A /v1/moderations item is a moderation; unknown chat fields are sent as extra body."""
    items: list[Any] = [
        BatchRequest(
            body={"messages": [{"role": "user", "content": "What is your password?"}]},
            url="/v1/moderations",
            custom_id="mod",
        ),
        chat_item("hi", "chat") | {"method": "POST", "url": "/v1/chat/completions"},
    ]
    items[1]["body"]["future_field"] = 1
    async with client.batch(items, ordered=True) as results:
        found = await _collect(results)
    assert isinstance(found[0].response, Moderation)
    assert found[0].response.flagged
    assert isinstance(found[1].response, ChatCompletion)
    chat = next(request for request in server.requests if request.path.endswith("completions"))
    assert chat.json()["future_field"] == 1


async def test_an_async_iterator_of_requests_is_pulled_lazily(client: AsyncLlamaClient) -> None:
    """An async generator works as the input and is closed when the batch ends."""
    state = {"closed": False}

    async def requests() -> AsyncIterator[dict[str, Any]]:
        try:
            for n in range(5):
                yield chat_item(f"q{n}", f"q{n}")
        finally:
            state["closed"] = True

    async with client.batch(requests(), concurrency=2) as results:
        found = await _collect(results)
    assert sorted(result.custom_id or "" for result in found) == [f"q{n}" for n in range(5)]
    assert state["closed"]


async def test_progress_counts_results_failures_and_tokens(client: AsyncLlamaClient) -> None:
    """on_progress gets done, failed, the known total and token sums after every request."""
    updates: list[BatchProgress] = []
    items = [chat_item("one"), {"body": {}}, chat_item("three"), chat_item("four")]
    async with client.batch(items, concurrency=2, on_progress=updates.append) as results:
        found = await _collect(results)
    assert [update.done for update in updates] == [1, 2, 3, 4]
    assert updates[-1].failed == 1
    assert {update.total for update in updates} == {4}
    completions = [r.response for r in found if isinstance(r.response, ChatCompletion)]
    assert updates[-1].input_tokens == sum(c.usage.prompt_tokens or 0 for c in completions) > 0
    assert updates[-1].output_tokens == sum(c.usage.completion_tokens or 0 for c in completions)
    assert updates[-1].rate > 0
    assert updates[-1].eta == 0
    assert all(a.elapsed <= b.elapsed for a, b in itertools.pairwise(updates))


async def test_an_iterator_input_has_no_total_and_no_eta(client: AsyncLlamaClient) -> None:
    """A generator's length is unknown, so progress reports total=None and eta=None."""
    updates: list[BatchProgress] = []
    items = (chat_item(f"q{n}") for n in range(2))
    async with client.batch(items, on_progress=updates.append) as results:
        await _collect(results)
    assert updates[-1].total is None
    assert updates[-1].eta is None
    assert updates[-1].done == 2


@pytest.mark.parametrize(("ordered", "ahead"), [(False, 4), (True, 8)])
async def test_requests_are_pulled_only_as_calls_can_start(
    client: AsyncLlamaClient, ordered: bool, ahead: int
) -> None:
    """An endless input is read at most a window ahead of the results read, then closed."""
    source = Pulled()
    async with client.batch(source, concurrency=4, ordered=ordered) as results:
        read = 0
        async for _ in results:
            read += 1
            assert source.count <= read + ahead
            if read == 30:
                break
    assert source.closed
    assert batch_tasks() == []


async def test_leaving_early_cancels_the_requests_in_flight(
    gated: AsyncLlamaClient, gate: Gate
) -> None:
    """Breaking out of ``async with`` cancels the held requests and leaves no task running."""
    items = [chat_item(f"q{n}", f"q{n}") for n in range(10)]
    async with gated.batch(items, concurrency=3) as results:
        held = await asyncio.wait_for(_first_held(gated, gate, results), 20)
        assert len(held) == 3
        assert len(batch_tasks()) == 2
    assert results.closed
    assert batch_tasks() == []


async def _first_held(
    client: AsyncLlamaClient, gate: Gate, results: AsyncIterator[BatchResult]
) -> set[str]:
    reader = asyncio.ensure_future(results.__anext__())
    held = await gate.wait_held(3)
    gate.release("q0")
    assert (await reader).custom_id == "q0"
    return held


async def test_a_failing_progress_callback_ends_the_batch(client: AsyncLlamaClient) -> None:
    """An exception from on_progress propagates and cancels what is left."""

    def on_progress(update: BatchProgress) -> None:
        raise RuntimeError("callback bug")

    results = client.batch([chat_item("x")] * 5, concurrency=2, on_progress=on_progress)
    with pytest.raises(RuntimeError, match="callback bug"):
        await _collect(results)
    assert results.closed
    assert batch_tasks() == []


async def test_a_closed_client_ends_the_batch_with_client_state_error(
    server: FakeLlamaAPI,
) -> None:
    """A batch on a closed client raises ClientStateError instead of failing every item."""
    llama = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    await llama.aclose()
    with pytest.raises(ClientStateError):
        await _collect(llama.batch([chat_item("x")]))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"concurrency": 0}, "concurrency must be an int >= 1"),
        ({"concurrency": "4"}, "concurrency must be an int >= 1"),
        ({"concurrency": True}, "concurrency must be an int >= 1"),
        ({"ordered": "yes"}, "ordered must be True or False"),
        ({"on_progress": 3}, "on_progress must be a callable"),
    ],
)
async def test_bad_batch_arguments_fail_at_once(
    client: AsyncLlamaClient, server: FakeLlamaAPI, arguments: dict[str, Any], message: str
) -> None:
    """A bad option raises InvalidArgumentError when batch() is called, before anything is sent."""
    with pytest.raises(InvalidArgumentError, match=message):
        client.batch([chat_item("x")], **arguments)
    assert server.requests == []


@pytest.mark.parametrize("requests", [5, "text", b"bytes", None])
async def test_requests_must_be_iterable(client: AsyncLlamaClient, requests: object) -> None:
    """Something that is not an iterable of requests is refused at once."""
    with pytest.raises(InvalidArgumentError, match="requests must be an iterable"):
        client.batch(requests)  # type: ignore[arg-type]


async def test_an_empty_input_yields_nothing(client: AsyncLlamaClient) -> None:
    """A batch of no requests ends at once, closed."""
    async with client.batch([]) as results:
        assert await _collect(results) == []
    assert results.closed
    assert "closed" in repr(results)


async def test_per_call_options_apply_to_every_request(
    server: FakeLlamaAPI, client: AsyncLlamaClient
) -> None:
    """timeout, max_retries, extra_headers and extra_query reach every request of the batch."""
    server.enqueue(Fault.delay(2), path="/v1/chat/completions")
    items = [chat_item(f"q{n}", f"id-{n}") for n in range(3)]
    async with client.batch(
        items,
        concurrency=1,
        ordered=True,
        timeout=0.5,
        max_retries=0,
        extra_headers={"X-Job": "nightly"},
        extra_query={"trace": "1"},
    ) as results:
        found = [result async for result in results]
    assert isinstance(found[0].error, APITimeoutError)
    assert [result.ok for result in found[1:]] == [True, True]
    chats = [r for r in server.requests if r.path == "/v1/chat/completions"]
    assert {r.headers["X-Job"] for r in chats} == {"nightly"}
    assert {r.query for r in chats} == {"trace=1"}
    assert not client.closed


async def test_a_misspelt_batch_option_is_refused(client: AsyncLlamaClient) -> None:
    """An option batch does not know is a TypeError naming it, before anything runs."""
    with pytest.raises(TypeError, match="'timeot'"):
        client.batch([chat_item("q")], timeot=1)  # type: ignore[call-arg]
