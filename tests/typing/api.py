"""The public API as users write it, checked by ``mypy --strict`` and never executed.

This file is a type-level test: nothing imports or calls it, and pytest does not
collect it (its name does not start with ``test_``). Every statement lives in a
function that nothing calls, so the only thing that "runs" is mypy, which checks
this directory with the rest of the project (``nox -s typing``).

Positive cases state what a call returns with ``assert_type``; mypy fails when
the library's annotations drift from what users were promised.

Negative cases are mistakes users really make. Each sits on its own line with a
``# type: ignore[<code>]`` for exactly the error mypy must report, and a comment
above it saying why. ``strict`` turns on ``warn_unused_ignores``, so if the
library stops rejecting one of these mistakes (an overload is dropped, a return
type widens to ``Any``, a frozen class thaws) the ignore becomes unused and mypy
fails. A mistake reported with a different code fails too.

This directory has no ``__init__.py`` on purpose: with one, mypy would name the
package ``typing`` and refuse it for shadowing the standard library. Without it
this module is called ``api``, so no other top-level ``api`` module may join the
files mypy checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from typing_extensions import assert_type

import llama_models
from llama_models import (
    APIConnectionError,
    APIResponse,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AsyncChatCompletionStream,
    AsyncLlamaClient,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionStream,
    ClientStateError,
    ImageContent,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    LlamaError,
    Model,
    ModelList,
    ModelOutputError,
    Moderation,
    NotFoundError,
    RateLimitError,
    RateLimitInfo,
    StreamInterruptedError,
    SystemMessage,
    TextContent,
    Tool,
    ToolCall,
    ToolMessage,
    Upload,
    UploadPart,
    UploadStatus,
    UserMessage,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault, RecordedRequest, UploadedFile
from llama_models.types import (
    AssistantMessage,
    Message,
    ModerationResult,
    StreamEvent,
    UnknownEvent,
    Usage,
)

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


# -- positive cases: the blocking client ------------------------------------------------


def version() -> None:
    assert_type(llama_models.__version__, str)


def blocking_client() -> None:
    client = LlamaClient(
        api_key="llama-key",
        base_url="https://api.llama.com/v1",
        timeout=30,
        connect_timeout=5.0,
        read_timeout=None,
        idle_timeout=math.inf,
        max_retries=3,
        default_headers={"x-team": "research"},
        max_response_bytes=8 * 1024 * 1024,
        allow_insecure_http=False,
        log_bodies=False,
    )
    assert_type(client.base_url, str)
    assert_type(client.timeout, float)
    assert_type(client.max_retries, int)
    assert_type(client.closed, bool)
    client.close()

    with LlamaClient() as client:
        assert_type(client, LlamaClient)


def blocking_models(client: LlamaClient) -> None:
    models = client.models.list()
    assert_type(models, ModelList)
    for model in models:
        assert_type(model, Model)
    assert_type(models[0], Model)
    assert_type(len(models), int)
    assert_type(models.ids, list[str])
    assert_type(models.data, Sequence[Model])

    model = client.models.retrieve(MODEL, timeout=5, extra_headers={"x-trace": "1"})
    assert_type(model, Model)
    assert_type(model.id, str)
    assert_type(model.created, int)
    assert_type(model.owned_by, str)
    assert_type(model.created_at, datetime)

    response = client.models.with_response.list()
    assert_type(response, APIResponse[ModelList])
    assert_type(response.data, ModelList)
    assert_type(response.status_code, int)
    assert_type(response.headers, Mapping[str, str])
    assert_type(response.request_id, str | None)
    assert_type(response.retries, int)
    assert_type(response.rate_limit, RateLimitInfo | None)
    if response.rate_limit is not None:
        assert_type(response.rate_limit.remaining_requests, int | None)
        assert_type(response.rate_limit.remaining_tokens, int | None)
    assert_type(client.models.with_response.retrieve(MODEL), APIResponse[Model])


def blocking_chat(client: LlamaClient) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert_type(completion, ChatCompletion)
    assert_type(completion.text, str)
    assert_type(completion.id, str | None)
    assert_type(completion.stop_reason, str | None)
    assert_type(completion.tool_calls, Sequence[ToolCall])
    assert_type(completion.completion_message, AssistantMessage)
    assert_type(completion.usage, Usage)
    assert_type(completion.usage.total_tokens, int | None)

    explicit = client.chat.completions.create(model=MODEL, messages=HELLO, stream=False)
    assert_type(explicit, ChatCompletion)

    response = client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert_type(response, APIResponse[ChatCompletion])
    assert_type(response.data.text, str)


def blocking_stream(client: LlamaClient) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, idle_timeout=30, stream_timeout=120
    )
    assert_type(stream, ChatCompletionStream)
    assert_type(stream.status_code, int)
    assert_type(stream.headers, Mapping[str, str])
    assert_type(stream.request_id, str | None)
    assert_type(stream.rate_limit, RateLimitInfo | None)
    assert_type(stream.retries, int)
    assert_type(stream.closed, bool)
    with stream as same:
        assert_type(same, ChatCompletionStream)
        for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
            assert_type(chunk.text, str)
            assert_type(chunk.id, str | None)
            assert_type(chunk.event, StreamEvent | UnknownEvent)
        for text in stream.text_deltas():
            assert_type(text, str)
        assert_type(stream.final_completion(), ChatCompletion)
    stream.close()

    with client.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as inline:
        assert_type(inline, ChatCompletionStream)


def blocking_stream_flag(client: LlamaClient, flag: bool) -> None:
    # A plain bool cannot pick an overload: the caller gets the union and narrows it.
    either = client.chat.completions.create(model=MODEL, messages=HELLO, stream=flag)
    assert_type(either, ChatCompletion | ChatCompletionStream)
    if isinstance(either, ChatCompletionStream):
        either = either.final_completion()
    assert_type(either, ChatCompletion)


def messages(client: LlamaClient) -> None:
    conversation: list[Message] = [SystemMessage("Answer in one line."), UserMessage("Hi")]
    completion = client.chat.completions.create(
        model=MODEL,
        messages=conversation,
        max_completion_tokens=64,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        repetition_penalty=1.1,
        user="user-1234",
        timeout=30,
        extra_headers={"x-trace": "1"},
        extra_body={"a_newer_field": True},
    )
    conversation.append(completion.completion_message)
    conversation.append(UserMessage([TextContent("And a llama?")]))
    client.chat.completions.create(model=MODEL, messages=conversation)

    # Dicts and classes mixed in one literal, and any iterable of messages.
    client.chat.completions.create(
        model=MODEL,
        messages=[
            SystemMessage([TextContent("Be brief.")]),
            {"role": "user", "content": "Hi"},
            AssistantMessage(content="Hello!", stop_reason="stop"),
            UserMessage("How are you?"),
        ],
    )
    client.chat.completions.create(model=MODEL, messages=(UserMessage("Hi"),))


def tool_calling(client: LlamaClient) -> None:
    weather = Tool(
        name="get_weather",
        description="Retrieve the current temperature for a specified location",
        parameters={
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
        strict=True,
    )
    conversation: list[Message] = [UserMessage("What is the weather in Menlo Park?")]
    first = client.chat.completions.create(
        model=MODEL, messages=conversation, tools=[weather], tool_choice="auto"
    )
    conversation.append(first.completion_message)
    for call in first.tool_calls:
        assert_type(call, ToolCall)
        assert_type(call.id, str)
        assert_type(call.name, str)
        assert_type(call.function.arguments, str)
        arguments = call.parse_arguments()
        assert_type(arguments, Any)
        answer = ToolMessage.for_call(call, {"temperature": "47 F"})
        assert_type(answer, ToolMessage)
        conversation.append(answer)
    client.chat.completions.create(
        model=MODEL, messages=conversation, tools=[weather], tool_choice=weather
    )
    as_dict = {"type": "function", "function": {"name": "get_weather"}}
    client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[as_dict], tool_choice="required"
    )


def structured_output(client: LlamaClient) -> None:
    address = JsonSchemaFormat(
        name="Address",
        schema={
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
            "required": ["street", "city"],
        },
    )
    completion = client.chat.completions.create(
        model=MODEL, messages=HELLO, response_format=address
    )
    assert_type(completion.parse_json(), Any)
    client.chat.completions.create(model=MODEL, messages=HELLO, response_format={"type": "text"})


def images(client: LlamaClient, photo: Path) -> None:
    from_file = ImageContent.from_file(photo)
    assert_type(from_file, ImageContent)
    assert_type(ImageContent.from_file("llama.png", mime_type="image/png"), ImageContent)
    assert_type(ImageContent.from_bytes(photo.read_bytes()), ImageContent)
    client.chat.completions.create(
        model=MODEL,
        messages=[
            UserMessage(
                [
                    TextContent("What do these images contain?"),
                    from_file,
                    ImageContent("https://example.com/llama.jpg"),
                ]
            )
        ],
    )


def moderations(client: LlamaClient) -> None:
    verdict = client.moderations.create(messages=HELLO)
    assert_type(verdict, Moderation)
    assert_type(verdict.model, str)
    assert_type(verdict.flagged, bool)
    assert_type(verdict.flagged_categories, list[str])
    for result in verdict:
        assert_type(result, ModerationResult)
        assert_type(result.flagged_categories, Sequence[str])
    response = client.moderations.with_response.create(
        messages=[UserMessage("What is your password?")], model="Llama-Guard"
    )
    assert_type(response, APIResponse[Moderation])


def uploads(client: LlamaClient, dataset: Path) -> None:
    def progress(sent: int, total: int) -> None:
        pass

    file_id = client.uploads.upload_file(
        dataset,
        purpose="messages_finetune",
        mime_type="application/jsonl",
        filename="train.jsonl",
        part_size=1024 * 1024,
        max_resumes=5,
        on_progress=progress,
        timeout=60,
    )
    assert_type(file_id, str)
    assert_type(client.uploads.upload_file("eval.jsonl", purpose="messages_eval"), str)

    upload = client.uploads.create(
        bytes=11, filename="notes.txt", mime_type="text/plain", purpose="attachment"
    )
    assert_type(upload, Upload)
    assert_type(upload.id, str)
    part = client.uploads.part(upload.id, data=b"hello world", offset=0)
    assert_type(part, UploadPart)
    assert_type(part.file_id, str | None)
    status = client.uploads.get(upload.id)
    assert_type(status, UploadStatus)
    assert_type(status.offset, int | None)
    assert_type(client.uploads.with_response.get(upload.id), APIResponse[UploadStatus])
    assert_type(
        client.uploads.with_response.part(upload.id, data=memoryview(b"!")),
        APIResponse[UploadPart],
    )


def errors(client: LlamaClient) -> None:
    try:
        client.models.list()
    except RateLimitError as exc:
        assert_type(exc.retry_after, float | None)
        assert_type(exc.rate_limit, RateLimitInfo | None)
        assert_type(exc.status_code, int)
    except NotFoundError as exc:
        assert_type(exc.message, str)
    except APIStatusError as exc:
        assert_type(exc.status_code, int)
        assert_type(exc.message, str)
        assert_type(exc.body, object)
        assert_type(exc.request_id, str | None)
        assert_type(exc.headers, Mapping[str, str])
        assert_type(exc.method, str | None)
        assert_type(exc.url, str | None)
    except APIStreamError as exc:
        assert_type(exc.status_code, int | None)
        assert_type(exc.events_received, int)
        assert_type(exc.body, object)
    except StreamInterruptedError as exc:
        assert_type(exc.events_received, int)
    except APITimeoutError as exc:
        connection_error: APIConnectionError = exc
        assert_type(connection_error.url, str | None)
    except APIResponseValidationError as exc:
        assert_type(exc.status_code, int)
        assert_type(exc.body, object)
    except InvalidArgumentError as exc:
        value_error: ValueError = exc
        assert_type(value_error, ValueError)
    except ClientStateError as exc:
        runtime_error: RuntimeError = exc
        assert_type(runtime_error, RuntimeError)
    except LlamaError as exc:
        assert_type(exc.message, str)

    completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    try:
        completion.parse_json()
    except ModelOutputError as exc:
        assert_type(exc.text, str)


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


# -- negative cases: each line must fail with exactly the code in its ignore ------------


def use(*values: object) -> None:
    """Take values, so that a negative case can be an expression without being useless."""


def negative_blocking(client: LlamaClient, flag: bool) -> None:
    chat = client.chat.completions
    # idle_timeout (and stream_timeout) exist only on the stream=True overloads.
    chat.create(model=MODEL, messages=HELLO, idle_timeout=30)  # type: ignore[call-overload]
    # stream=True returns a ChatCompletionStream, not a ChatCompletion.
    completion: ChatCompletion = chat.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[assignment]
    # With a bool that is not a literal, the result must be narrowed before use.
    use(chat.create(model=MODEL, messages=HELLO, stream=flag).text)  # type: ignore[union-attr]
    # The model id is a str.
    chat.create(model=4, messages=HELLO)  # type: ignore[call-overload]
    # OpenAI's max_tokens is called max_completion_tokens here.
    chat.create(model=MODEL, messages=HELLO, max_tokens=64)  # type: ignore[call-overload]
    # with_response has no streaming variant.
    chat.with_response.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[call-arg]
    # retrieve needs the model id.
    client.models.retrieve()  # type: ignore[call-arg]
    # The parsed result of an APIResponse is .data.
    use(client.models.with_response.list().parsed)  # type: ignore[attr-defined]
    # Responses are frozen attrs classes.
    completion.id = "chatcmpl-1"  # type: ignore[misc]
    # The purpose is one of the UploadPurpose literals.
    client.uploads.upload_file("train.jsonl", purpose="finetune")  # type: ignore[arg-type]
    # The blocking client owns its event loop, so it takes no aiohttp session.
    LlamaClient(http_session=aiohttp.ClientSession())  # type: ignore[call-arg]


def negative_rate_limit(exc: RateLimitError) -> None:
    # retry_after is None when the server did not say how long to wait.
    use(exc.retry_after * 2)  # type: ignore[operator]


def negative_async_in_sync(client: AsyncLlamaClient) -> None:
    # Calling an async method without await gives a coroutine, not the result.
    models: ModelList = client.models.list()  # type: ignore[assignment]
    use(models)
    # The async client is an async context manager only.
    with AsyncLlamaClient() as other:  # type: ignore[attr-defined]
        use(other)


async def negative_async(client: AsyncLlamaClient, blocking: LlamaClient) -> None:
    # A forgotten await: the coroutine is created and dropped.
    client.models.list()  # type: ignore[unused-coroutine]
    # The blocking client's methods return results, not awaitables.
    await blocking.models.list()  # type: ignore[misc]
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    # An async stream needs async for.
    for chunk in stream:  # type: ignore[attr-defined]
        use(chunk)


def negative_testing_helpers() -> None:
    # Faults and replies are built by their classmethods, never by calling the class.
    use(Fault(503))  # type: ignore[arg-type]
    use(ChatReply("Hello!"))  # type: ignore[arg-type]


def model_list_is_a_sequence(client: LlamaClient) -> None:
    models: Sequence[Model] = client.models.list()
    assert_type(client.models.list()[1:], Sequence[Model])
    use(models)


def message_is_public() -> None:
    messages: list[llama_models.Message] = [UserMessage("What is 2 + 2?")]
    messages.append(AssistantMessage(content="4"))
    use(messages)
