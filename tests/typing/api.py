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
these modules are called ``api``, ``api_async`` and ``mistakes``, so no other top-level
module of those names may join the files mypy checks.

This module: the blocking client. ``api_async.py``: the async client and
``llama_models.testing``. ``mistakes.py``: the negative cases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from typing_extensions import assert_type

import llama_models
from llama_models import (
    APIConnectionError,
    APIResponse,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionStream,
    ClientStateError,
    ImageContent,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    LlamaError,
    MessageParam,
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
from llama_models.types import (
    AssistantMessage,
    Message,
    Metric,
    ModerationResult,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UnknownDelta,
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
    assert_type(client.timeout, float | None)
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
    assert_type(completion.completion_message.role, str)
    assert_type(completion.usage, Usage)
    assert_type(completion.usage.total_tokens, int | float | None)
    for metric in completion.metrics:
        assert_type(metric, Metric)
        assert_type(metric.value, int | float)

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
            assert_type(chunk.delta, TextDelta | ToolCallDelta | UnknownDelta | None)
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
        assert_type(arguments, dict[str, Any])
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


def model_list_is_a_sequence(client: LlamaClient) -> None:
    models: Sequence[Model] = client.models.list()
    assert_type(client.models.list()[1:], Sequence[Model])
    assert_type(models, Sequence[Model])


def message_is_public() -> None:
    messages: list[llama_models.Message] = [UserMessage("What is 2 + 2?")]
    messages.append(AssistantMessage(content="4"))
    assert_type(messages, list[llama_models.Message])


def a_conversation_of_dicts(client: LlamaClient) -> None:
    # Dicts and message objects in one list: the answer goes back as it came.
    conversation: list[MessageParam] = [{"role": "user", "content": "What is 2 + 2?"}]
    completion = client.chat.completions.create(model=MODEL, messages=conversation)
    conversation.append(completion.completion_message)
    conversation.append({"role": "user", "content": "And 3 + 3?"})
    conversation.append(UserMessage("And 4 + 4?"))
    client.chat.completions.create(model=MODEL, messages=conversation)
    same: list[llama_models.types.MessageParam] = conversation
    assert_type(same, list[MessageParam])


def stream_deltas(client: LlamaClient) -> None:
    # Tool-call pieces, read without getattr: chunk.delta needs only isinstance.
    with client.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as stream:
        for chunk in stream:
            delta = chunk.delta
            if isinstance(delta, ToolCallDelta):
                assert_type(delta.id, str | None)
                assert_type(delta.function.arguments, str | None)
            elif isinstance(delta, TextDelta):
                assert_type(delta.text, str)
            # Or narrow the event itself: a StreamEvent always has a delta.
            event = chunk.event
            if isinstance(event, StreamEvent):
                assert_type(event.delta, TextDelta | ToolCallDelta | UnknownDelta)
                assert_type(event.stop_reason, str | None)
            else:
                assert_type(event, UnknownEvent)
                assert_type(event.data, Mapping[str, Any])


def observability() -> None:
    from collections import Counter

    from opentelemetry.sdk.trace import TracerProvider

    from llama_models import RequestAttempt
    from llama_models.otel import Telemetry

    seen: list[RequestAttempt] = []
    statuses: Counter[int | None] = Counter()

    def count(attempt: RequestAttempt) -> None:
        statuses[attempt.status] += 1
        assert_type(attempt.elapsed, float)
        assert_type(attempt.error, llama_models.LlamaError | None)
        assert_type(attempt.request_body, bytes | None)

    telemetry = Telemetry(tracer_provider=TracerProvider(), capture_content=True)
    assert_type(telemetry.capture_content, bool)
    with LlamaClient(hooks=[seen.append, count], hook_bodies=True, telemetry=telemetry) as client:
        client.models.list()


def batch_jobs(client: LlamaClient, lines: Sequence[Mapping[str, Any]]) -> None:
    requests = [llama_models.BatchRequest(body=line, custom_id="q1") for line in lines]
    with client.batch(requests, concurrency=4, ordered=True) as results:
        assert_type(results, llama_models.Batch)
        for result in results:
            assert_type(result, llama_models.BatchResult)
            assert_type(
                result.response, llama_models.ChatCompletion | llama_models.Moderation | None
            )
            assert_type(result.error, llama_models.LlamaError | None)
    progress = results.progress()
    assert_type(progress.eta, float | None)
    client.batch(iter(lines), on_progress=lambda update: print(update.done))
