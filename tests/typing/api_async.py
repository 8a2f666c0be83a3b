"""The async client and ``llama_models.testing`` as users write them; see ``api.py``."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from typing_extensions import assert_type

import llama_models
from llama_models import (
    APIResponse,
    AsyncChatCompletionStream,
    AsyncLlamaClient,
    ChatCompletion,
    ChatCompletionChunk,
    LlamaClient,
    Model,
    ModelList,
    Moderation,
    RateLimitError,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault, RecordedRequest, UploadedFile

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


# -- positive cases: the async client ---------------------------------------------------


async def async_client(session: aiohttp.ClientSession) -> None:
    client = AsyncLlamaClient(api_key="llama-key", http_session=session, idle_timeout=None)
    assert_type(client.closed, bool)
    await client.aclose()

    async with AsyncLlamaClient(timeout=30, max_retries=0) as client:
        assert_type(client, AsyncLlamaClient)
        models = await client.models.list()
        assert_type(models, ModelList)
        for model in models:
            assert_type(model, Model)
        assert_type(await client.models.retrieve(MODEL), Model)
        assert_type(await client.models.with_response.list(), APIResponse[ModelList])
        assert_type(await client.moderations.create(messages=HELLO), Moderation)
        file_id = await client.uploads.upload_file("train.jsonl", purpose="messages_finetune")
        assert_type(file_id, str)


async def async_chat(client: AsyncLlamaClient, flag: bool) -> None:
    completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert_type(completion, ChatCompletion)
    explicit = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=False)
    assert_type(explicit, ChatCompletion)
    response = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert_type(response, APIResponse[ChatCompletion])

    stream = await client.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, idle_timeout=math.inf
    )
    assert_type(stream, AsyncChatCompletionStream)
    assert_type(stream.request_id, str | None)
    async with stream as same:
        assert_type(same, AsyncChatCompletionStream)
        async for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
        async for text in stream.text_deltas():
            assert_type(text, str)
        assert_type([text async for text in stream.text_deltas()], list[str])
        assert_type(await stream.final_completion(), ChatCompletion)
    await stream.aclose()

    either = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=flag)
    assert_type(either, ChatCompletion | AsyncChatCompletionStream)


# -- positive cases: llama_models.testing, as a user's own tests use it ------------------


async def user_test_async() -> None:
    async with FakeLlamaAPI() as api:
        assert_type(api, FakeLlamaAPI)
        api.enqueue(Fault.rate_limited(retry_after="600"))
        api.enqueue(Fault.error(503), Fault.drop(), method="GET", path="/v1/models*")
        api.enqueue(Fault.stream_error(after=2), Fault.stream_stall(keepalive_interval=0.1))
        api.enqueue_replies(
            ChatReply.text("Hi there! How can I help?", chunk_size=8),
            ChatReply.tool_call("get_weather", {"location": "Menlo Park"}),
            ChatReply.tool_calls(("a", {}), ("b", "not json")),
            ChatReply.json({"city": "Menlo Park"}, event_delay=0.01),
        )
        async with AsyncLlamaClient(api_key=api.api_key, base_url=api.base_url) as client:
            try:
                await client.models.list()
            except RateLimitError as exc:
                assert_type(exc.retry_after, float | None)
        requests = api.requests
        assert_type(requests, list[RecordedRequest])
        assert_type(requests[0].path, str)
        assert_type(requests[0].headers, Mapping[str, str])
        assert_type(requests[0].body, bytes)
        assert_type(requests[0].json(), Any)
        assert_type(await api.wait_for_requests_async(2), list[RecordedRequest])
        assert_type(api.pending_faults, int)
        assert_type(api.pending_replies, int)


def user_test_with_fixture(fake_llama_api: FakeLlamaAPI) -> None:
    fake_llama_api.enqueue_replies(ChatReply.text("Hello!"))
    with LlamaClient(api_key=fake_llama_api.api_key, base_url=fake_llama_api.base_url) as client:
        assert_type(client.chat.completions.create(model=MODEL, messages=HELLO).text, str)
        client.uploads.upload_file("train.jsonl", purpose="messages_finetune")
    assert_type(fake_llama_api.wait_for_requests(2, timeout=5), list[RecordedRequest])
    files = fake_llama_api.files
    assert_type(files, dict[str, UploadedFile])
    for uploaded in files.values():
        assert_type(uploaded.data, bytes)


def user_test_threaded() -> None:
    catalogue = [{"id": "my-model", "created": 0, "object": "model", "owned_by": "me"}]
    with FakeLlamaAPI(api_key="k", models=catalogue, send_request_id=True) as api:
        assert_type(api, FakeLlamaAPI)
        assert_type(api.port, int)
        assert_type(api.base_url, str)
        api.add_synthetic_models(100)
        api.clear_requests()


async def async_batch_jobs(client: AsyncLlamaClient) -> None:
    async def requests() -> AsyncIterator[dict[str, Any]]:
        yield {"custom_id": "q1", "body": {"model": "m", "messages": []}}

    async with client.batch(requests(), concurrency=4) as results:
        assert_type(results, llama_models.AsyncBatch)
        async for result in results:
            assert_type(result.index, int)
            assert_type(result.custom_id, str | None)
