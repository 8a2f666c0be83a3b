"""Chat completions and moderations over loopback HTTP, on both clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_models import (
    APIResponse,
    AssistantMessage,
    AsyncLlamaClient,
    BadRequestError,
    ChatCompletion,
    ImageContent,
    InternalServerError,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    ModelOutputError,
    Moderation,
    NotFoundError,
    RateLimitError,
    SystemMessage,
    TextContent,
    Tool,
    ToolMessage,
    UserMessage,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault
from llama_models.types import Message, Metric, ModerationResult, Usage

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "Hello, world!"}]
WEATHER = Tool(
    name="get_weather",
    description="Retrieve the current temperature for a specified location",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
    strict=True,
)
ADDRESS = JsonSchemaFormat(
    name="Address",
    schema={
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
        "required": ["street", "zip"],
    },
)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


async def test_create_returns_a_typed_completion(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A plain call returns a ChatCompletion with text, stop reason, metrics and usage."""
    server.enqueue_replies(ChatReply.text("Hello! Nice to meet you."))
    completion = await client.chat.completions.create(
        model=MODEL, messages=[SystemMessage("You are friendly."), UserMessage("Hello, world!")]
    )
    assert isinstance(completion, ChatCompletion)
    assert completion.text == "Hello! Nice to meet you."
    assert completion.completion_message.content == TextContent("Hello! Nice to meet you.")
    assert completion.stop_reason == "stop"
    assert completion.tool_calls == ()
    assert completion.id
    assert [m.metric for m in completion.metrics] == [
        "num_completion_tokens",
        "num_prompt_tokens",
        "num_total_tokens",
    ]
    assert all(isinstance(m, Metric) and m.unit == "tokens" for m in completion.metrics)
    usage = completion.usage
    assert isinstance(usage, Usage)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens  # type: ignore[operator]
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.json() == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are friendly."},
            {"role": "user", "content": "Hello, world!"},
        ],
    }


async def test_usage_is_none_for_counts_the_server_left_out(
    server: FakeLlamaAPI, client: AsyncLlamaClient
) -> None:
    """A completion without metrics reports no token counts instead of failing."""
    server.enqueue(
        Fault.respond(200, json={"completion_message": {"role": "assistant", "content": "plain"}})
    )
    completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.text == "plain"
    assert completion.usage == Usage()
    assert completion.id is None


async def test_with_response_carries_rate_limits(client: AsyncLlamaClient) -> None:
    """with_response.create returns the completion with status, headers and token budget."""
    first = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    second = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert isinstance(first, APIResponse)
    assert first.status_code == 200
    assert isinstance(first.data, ChatCompletion)
    assert first.rate_limit is not None
    assert second.rate_limit is not None
    assert second.rate_limit.remaining_tokens < first.rate_limit.remaining_tokens  # type: ignore[operator]


async def test_errors_and_retries_follow_the_policy(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A POST retries a 429 or what the server marks retryable; other errors raise typed."""
    server.enqueue(
        Fault.rate_limited(retry_after_ms="1"), Fault.error(503, headers={"x-should-retry": "true"})
    )
    response = await client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert response.retries == 2
    server.enqueue(Fault.error(503))
    with pytest.raises(InternalServerError):  # the server may have generated: not resent
        await client.chat.completions.create(model=MODEL, messages=HELLO)
    with pytest.raises(NotFoundError, match="Model nope not found"):
        await client.chat.completions.create(model="nope", messages=HELLO)
    server.enqueue(*[Fault.rate_limited(retry_after_ms="1")] * 3)
    with pytest.raises(RateLimitError):
        await client.chat.completions.create(model=MODEL, messages=HELLO)
    server.enqueue(Fault.error(400, "max_tokens is not supported"))
    with pytest.raises(BadRequestError, match="max_tokens"):
        await client.chat.completions.create(
            model=MODEL, messages=HELLO, extra_body={"max_tokens": 1}
        )


async def test_extra_headers_and_extra_body_are_sent(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Per-call headers go on the request; extra_body fields go in its JSON."""
    await client.chat.completions.create(
        model=MODEL, messages=HELLO, extra_headers={"X-Trace": "t1"}, extra_body={"seed": 7}
    )
    (request,) = server.requests
    assert request.headers["X-Trace"] == "t1"
    assert request.json()["seed"] == 7


async def test_a_tool_calling_round_trip(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """Tool calls parse, the tool result quotes the call's id, and the answer comes back."""
    server.enqueue_replies(
        ChatReply.tool_call("get_weather", {"location": "Menlo Park"}, id="call-1"),
        ChatReply.text("The current temperature in Menlo Park is 47°F."),
    )
    messages: list[Message] = [UserMessage("What is the weather in Menlo Park?")]
    first = await client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert first.stop_reason == "tool_calls"
    assert first.text == ""
    (call,) = first.tool_calls
    assert (call.id, call.name) == ("call-1", "get_weather")
    assert call.parse_arguments() == {"location": "Menlo Park"}
    messages += [first.completion_message, ToolMessage.for_call(call, {"Menlo Park": "47f"})]
    second = await client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert second.text == "The current temperature in Menlo Park is 47°F."
    sent = server.requests[-1].json()["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": {"type": "text", "text": ""},
        "stop_reason": "tool_calls",
        "tool_calls": [
            {
                "id": "call-1",
                "function": {"name": "get_weather", "arguments": '{"location":"Menlo Park"}'},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "tool_call_id": "call-1", "content": '{"Menlo Park": "47f"}'}
    assert server.requests[0].json()["tools"][0]["function"]["strict"] is True


async def test_the_fake_calls_a_tool_it_was_forced_to(client: AsyncLlamaClient) -> None:
    """tool_choice naming a tool makes the call; its arguments follow the schema."""
    completion = await client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[WEATHER], tool_choice=WEATHER
    )
    assert completion.tool_calls[0].parse_arguments() == {"location": "example"}


async def test_invalid_tool_arguments_raise_a_clear_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Arguments that are not JSON raise ModelOutputError naming the tool, keeping the text."""
    server.enqueue_replies(ChatReply.tool_call("get_weather", '{"location": "Men'))
    completion = await client.chat.completions.create(model=MODEL, messages=HELLO, tools=[WEATHER])
    with pytest.raises(
        ModelOutputError, match="arguments of tool call 'get_weather' are not valid JSON"
    ) as caught:
        completion.tool_calls[0].parse_arguments()
    assert caught.value.text == '{"location": "Men'
    assert isinstance(caught.value, ValueError)


async def test_structured_output_parses_as_json(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """response_format with a schema sends it, and parse_json decodes the reply."""
    completion = await client.chat.completions.create(
        model=MODEL, messages=HELLO, response_format=ADDRESS
    )
    assert completion.parse_json() == {"street": "example", "zip": "example"}
    assert server.requests[0].json()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Address", "schema": dict(ADDRESS.schema)},
    }
    server.enqueue_replies(ChatReply.text('{"street": "1 Hacker', stop_reason="length"))
    cut = await client.chat.completions.create(model=MODEL, messages=HELLO, response_format=ADDRESS)
    with pytest.raises(ModelOutputError, match="the reply's contents are not valid JSON"):
        cut.parse_json()


async def test_image_questions_send_data_urls(
    client: AsyncLlamaClient, server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Images from a file or bytes travel as data: URLs in image_url items."""
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    await client.chat.completions.create(
        model=MODEL,
        messages=[
            UserMessage(
                [
                    TextContent("What does this image contain?"),
                    ImageContent.from_file(image),
                    ImageContent("https://example.com/cat.jpg"),
                ]
            )
        ],
    )
    content = server.requests[0].json()["messages"][0]["content"]
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert content[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}


@pytest.mark.parametrize(
    ("data", "mime_type", "message"),
    [
        (b"", None, "image data is empty"),
        (b"BM\x00\x00", None, "cannot be recognised"),
        (PNG, "image/webp", "'image/webp' is not accepted"),
        (b"\xff\xd8\xff" + b"\x00" * 25_000_000, None, "at most 25,000,000 bytes"),
    ],
)
def test_image_bytes_are_checked_before_sending(
    data: bytes, mime_type: str | None, message: str
) -> None:
    """Empty, unrecognised, unaccepted and oversized images are refused."""
    with pytest.raises(InvalidArgumentError, match=message):
        ImageContent.from_bytes(data, mime_type=mime_type)


def test_image_files_are_checked_before_reading(tmp_path: Path) -> None:
    """A missing file, a directory, an oversized or unknown file are refused; types are sniffed."""
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        ImageContent.from_file(tmp_path / "missing.png")
    with pytest.raises(InvalidArgumentError, match="is not a regular file"):
        ImageContent.from_file(tmp_path)
    big = tmp_path / "big.jpg"
    with big.open("wb") as file:
        file.truncate(25_000_001)
    with pytest.raises(InvalidArgumentError, match="at most 25,000,000 bytes"):
        ImageContent.from_file(big)
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    with pytest.raises(InvalidArgumentError, match="not a recognised image"):
        ImageContent.from_file(odd)
    named = tmp_path / "photo.gif"
    named.write_bytes(b"\x00\x01")  # no magic bytes: the extension decides
    assert ImageContent.from_file(named).url.startswith("data:image/gif;base64,")
    assert ImageContent.from_file(named, mime_type="image/png").url.startswith("data:image/png;")


async def test_moderation_flags_categories(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """moderations.create returns the model and flagged categories; model defaults server-side."""
    risky = await client.moderations.create(
        messages=[
            {
                "role": "user",
                "content": "I need your credit card details to process your refund.",
            }
        ]
    )
    assert isinstance(risky, Moderation)
    assert risky.model == "Llama-Guard"
    assert risky.flagged
    assert risky.flagged_categories == ["privacy"]
    assert list(risky) == [ModerationResult(True, ("privacy",))]
    calm = await client.moderations.create(messages=HELLO, model="Llama-Guard")
    assert not calm.flagged
    assert len(calm) == 1
    assert calm.results[0].flagged_categories == ()
    assert server.requests[0].json() == {
        "messages": [
            {"role": "user", "content": "I need your credit card details to process your refund."}
        ]
    }
    assert server.requests[1].json()["model"] == "Llama-Guard"
    response = await client.moderations.with_response.create(messages=HELLO)
    assert response.status_code == 200
    assert isinstance(response.data, Moderation)


def test_the_blocking_client_chats_calls_tools_and_moderates(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking client's chat and moderation calls return the same typed results."""
    threaded_server.enqueue_replies(
        ChatReply.text("Hi there"), ChatReply.tool_call("get_weather", {"location": "Paris"})
    )
    assert sync_client.chat.completions.create(model=MODEL, messages=HELLO).text == "Hi there"
    called = sync_client.chat.completions.create(model=MODEL, messages=HELLO, tools=[WEATHER])
    assert called.tool_calls[0].parse_arguments() == {"location": "Paris"}
    response = sync_client.chat.completions.with_response.create(model=MODEL, messages=HELLO)
    assert response.data.text == "You said: Hello, world!"
    assert sync_client.moderations.create(
        messages=[{"role": "user", "content": "I want to hurt myself"}]
    ).flagged_categories == ["self-harm"]
    assert sync_client.moderations.with_response.create(messages=HELLO).data.flagged is False


async def test_an_assistant_answer_can_be_sent_back(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A completion_message, or an AssistantMessage built by hand, continues a conversation."""
    first = await client.chat.completions.create(model=MODEL, messages=HELLO)
    await client.chat.completions.create(
        model=MODEL,
        messages=[
            *HELLO,
            first.completion_message,
            AssistantMessage(content="plain"),
            UserMessage("More?"),
        ],
    )
    sent = server.requests[-1].json()["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": {"type": "text", "text": first.text},
        "stop_reason": "stop",
    }
    assert sent[2] == {"role": "assistant", "content": "plain"}
    assert json.loads(server.requests[-1].body)["messages"][3] == {
        "role": "user",
        "content": "More?",
    }
