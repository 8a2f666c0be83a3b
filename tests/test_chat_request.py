"""Building a chat request: every argument checked and serialized before any I/O."""

from __future__ import annotations

import math
from typing import Any

import pytest

from llama_models import (
    AssistantMessage,
    AsyncLlamaClient,
    ImageContent,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    SystemMessage,
    TextContent,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from llama_models._chat_request import chat_body
from llama_models.testing import FakeLlamaAPI
from llama_models.types import FunctionCall, UnknownContent

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def body(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "model": MODEL,
        "messages": HELLO,
        "max_completion_tokens": None,
        "temperature": None,
        "top_p": None,
        "top_k": None,
        "repetition_penalty": None,
        "response_format": None,
        "tools": None,
        "tool_choice": None,
        "user": None,
        "stream": False,
        "extra_body": None,
    }
    fields.update(overrides)
    return chat_body(**fields)


WEATHER = Tool(
    name="get_weather",
    description="Current temperature",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}},
    strict=True,
)
WEATHER_JSON = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current temperature",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        "strict": True,
    },
}


def test_unset_arguments_are_not_sent() -> None:
    """Only model and messages go out when nothing else is given."""
    assert body() == {"model": MODEL, "messages": HELLO}


def test_every_argument_is_sent_under_its_api_name() -> None:
    """Each keyword argument becomes the request field of the same name."""
    sent = body(
        max_completion_tokens=5,
        temperature=0.2,
        top_p=0.9,
        top_k=0,
        repetition_penalty=1.1,
        response_format=JsonSchemaFormat("Address", {"type": "object"}),
        tools=[WEATHER],
        tool_choice=WEATHER,
        user="user-1234",
        stream=True,
    )
    assert sent == {
        "model": MODEL,
        "messages": HELLO,
        "max_completion_tokens": 5,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 0,
        "repetition_penalty": 1.1,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Address", "schema": {"type": "object"}},
        },
        "tools": [WEATHER_JSON],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "user": "user-1234",
        "stream": True,
    }


def test_message_classes_serialize_to_the_documented_json() -> None:
    """User, system, assistant and tool message classes match the API's dict form."""
    call = ToolCall("call-1", FunctionCall("get_weather", '{"location":"Menlo Park"}'))
    messages = [
        SystemMessage("Be brief."),
        UserMessage([TextContent("What is this?"), ImageContent.from_bytes(PNG)]),
        AssistantMessage(stop_reason="tool_calls", tool_calls=[call]),
        ToolMessage.for_call(call, {"Menlo Park": "47f"}),
        AssistantMessage(content=TextContent("It is 47°F.")),
        AssistantMessage(content=UnknownContent("audio", {"type": "audio", "id": "a1"})),
    ]
    assert body(messages=messages)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": ImageContent.from_bytes(PNG).url}},
            ],
        },
        {
            "role": "assistant",
            "stop_reason": "tool_calls",
            "tool_calls": [
                {
                    "id": "call-1",
                    "function": {"name": "get_weather", "arguments": '{"location":"Menlo Park"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call-1", "content": '{"Menlo Park": "47f"}'},
        {"role": "assistant", "content": {"type": "text", "text": "It is 47°F."}},
        {"role": "assistant", "content": {"type": "audio", "id": "a1"}},
    ]


def test_dict_messages_pass_through_with_unknown_keys_kept() -> None:
    """Dicts in the documented shape are sent as given, extra keys included."""
    messages = [{"role": "user", "content": "hi", "name": "ada"}, {"role": "assistant"}]
    assert body(messages=messages)["messages"] == messages


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ("Hello", "messages must be a list of messages"),
        ([], "at least one message"),
        ([42], r"messages\[0\] must be a dict with a 'role'"),
        ([{"content": "hi"}], r"messages\[0\]\.role is required"),
        ([{"role": "bot", "content": "hi"}], r"messages\[0\]\.role must be one of"),
        ([{"role": "developer", "content": "hi"}], "no 'developer' role"),
        ([{"role": "user"}], r"messages\[0\]\.content is required for a user message"),
        ([{"role": "user", "content": None}], r"messages\[0\]\.content is required"),
        ([{"role": "user", "content": 3}], r"messages\[0\]\.content must be a str or a list"),
        ([{"role": "tool", "content": "x"}], r"messages\[0\]\.tool_call_id is required"),
        (
            [{"role": "tool", "content": "x", "tool_call_id": 7}],
            "tool_call_id must be a non-empty str",
        ),
        ([{"role": "user", "content": ["hi"]}], r"content\[0\] must be a content item"),
        (
            [{"role": "user", "content": [{"type": "audio"}]}],
            r"content\[0\]\.type must be 'text' or 'image_url'",
        ),
        ([{"role": "user", "content": [{"type": "text"}]}], r"content\[0\]\.text must be a str"),
        (
            [
                {
                    "role": "system",
                    "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                }
            ],
            "only in user messages",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x"}]}],
            r"image_url must be \{'url'",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "/tmp/cat.png"}}],
                }
            ],
            "ImageContent.from_file",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA=="}}
                    ],
                }
            ],
            "'image/bmp' is not accepted",
        ),
        ([{"role": "assistant", "content": 5}], "must be a str or one text item"),
        ([{"role": "assistant", "stop_reason": 5}], r"stop_reason must be a str such as 'stop'"),
        ([{"role": "assistant", "stop_reason": ""}], r"stop_reason must be a str"),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}],
                }
            ],
            r"must be an https:// URL or a data:image",
        ),
        ([{"role": "assistant", "tool_calls": "x"}], "tool_calls must be a list"),
        (
            [{"role": "assistant", "tool_calls": [{"id": "1"}]}],
            r"tool_calls\[0\]\.function is required",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"id": "1", "function": {"name": "f"}}]}],
            r"function\.arguments must be a str",
        ),
        (
            [{"role": "assistant", "tool_calls": [7]}],
            r"tool_calls\[0\] must be a dict or a ToolCall",
        ),
        ([UserMessage(content=3)], r"messages\[0\]\.content must be a str or a list"),  # type: ignore[arg-type]
        ([ToolMessage(tool_call_id="", content="x")], "tool_call_id must be a non-empty str"),
    ],
)
def test_malformed_messages_are_refused_with_the_field_named(messages: Any, message: str) -> None:
    """Unknown roles, missing content or tool_call_id, and wrong types name the field."""
    with pytest.raises(InvalidArgumentError, match=message):
        body(messages=messages)


def test_at_most_nine_images_per_request() -> None:
    """A tenth image is refused before anything is sent."""
    image = ImageContent("https://example.com/cat.png")
    body(messages=[UserMessage([image] * 9)])
    with pytest.raises(InvalidArgumentError, match="10 images; the API accepts at most 9"):
        body(messages=[UserMessage([image] * 5), UserMessage([image] * 5)])


def test_an_oversized_data_url_is_refused() -> None:
    """A data: URL over 25 MB is refused without decoding it."""
    url = "data:image/png;base64," + "A" * 34_000_000
    with pytest.raises(InvalidArgumentError, match="larger than 25,000,000 bytes"):
        body(messages=[UserMessage([ImageContent(url)])])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "", "model must be a non-empty model id"),
        ("model", None, "model must be a non-empty model id"),
        ("max_completion_tokens", 0, "max_completion_tokens must be >= 1"),
        ("max_completion_tokens", 1.5, "max_completion_tokens must be an int"),
        ("max_completion_tokens", True, "max_completion_tokens must be an int"),
        ("temperature", 1.5, "temperature must be between 0 and 1"),
        ("temperature", math.nan, "temperature must be a number"),
        ("temperature", "hot", "temperature must be a number"),
        ("top_p", -0.1, "top_p must be between 0 and 1"),
        ("top_k", -1, "top_k must be >= 0"),
        ("repetition_penalty", 0.5, "repetition_penalty must be between 1 and 2"),
        ("user", 42, "user must be a str"),
        ("stream", "yes", "stream must be True or False"),
        ("response_format", "json", "response_format must be a JsonSchemaFormat or a dict"),
        ("response_format", {"type": "json_object"}, "no JSON mode without a schema"),
        ("response_format", {"type": "json_schema"}, "response_format.json_schema is required"),
        (
            "response_format",
            {"type": "json_schema", "json_schema": {"name": "A", "schema": 1}},
            "schema must be a JSON Schema dict",
        ),
        ("tools", WEATHER, "tools must be a list"),
        ("tools", [{"type": "retrieval"}], r"tools\[0\]\.type must be 'function'"),
        ("tools", [{"type": "function"}], r"tools\[0\]\.function is required"),
        ("tools", [Tool(name="get weather")], "function.name must be 1-64 letters"),
        ("tools", [Tool(name="x" * 65)], "function.name must be 1-64 letters"),
        ("tools", [WEATHER, WEATHER], "used by an earlier tool"),
        ("tools", [Tool(name="f", parameters="{}")], "parameters must be a Mapping"),  # type: ignore[arg-type]
        ("tools", ["get_weather"], r"tools\[0\] must be a Tool or a dict"),
        ("tool_choice", "get_weather", "tool_choice must be 'none', 'auto', 'required' or a tool"),
        ("tool_choice", "required", "tool_choice='required' needs tools"),
        ("tool_choice", 3, "tool_choice must be"),
        ("tool_choice", Tool(name="other"), "not among the tools passed"),
        ("extra_body", {"stream": True}, "pass stream=True as an argument"),
        ("extra_body", {"model": "x"}, "extra_body sets 'model'"),
        ("extra_body", [("a", 1)], "extra_body must be a dict"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(field: str, value: Any, message: str) -> None:
    """Out-of-range numbers, wrong types and contradictions name the argument."""
    with pytest.raises(InvalidArgumentError, match=message):
        body(**{field: value})


def test_tool_choice_by_name_gets_a_hint_when_the_tool_exists() -> None:
    """Passing a tool's bare name explains how to force that tool."""
    with pytest.raises(InvalidArgumentError, match="pass the Tool itself"):
        body(tools=[WEATHER], tool_choice="get_weather")


def test_extra_body_adds_fields_newer_than_the_sdk() -> None:
    """extra_body fields are merged into the JSON body."""
    assert body(extra_body={"max_tokens": 5})["max_tokens"] == 5


def test_json_unserializable_tool_results_are_refused() -> None:
    """A tool result that JSON cannot encode fails when the message is built."""
    call = ToolCall("c", FunctionCall("f", "{}"))
    with pytest.raises(InvalidArgumentError, match="cannot be encoded as JSON"):
        ToolMessage.for_call(call, object())
    assert ToolMessage.for_call(call, "done").content == "done"


@pytest.mark.anyio
async def test_bad_requests_never_reach_the_server(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A malformed message or argument fails before a single byte is sent, for every call."""
    with pytest.raises(InvalidArgumentError):
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "bot", "content": "x"}]
        )
    with pytest.raises(InvalidArgumentError):
        await client.chat.completions.create(
            model=MODEL, messages=HELLO, temperature=3, stream=True
        )
    with pytest.raises(InvalidArgumentError, match="idle_timeout applies to streams only"):
        await client.chat.completions.create(model=MODEL, messages=HELLO, idle_timeout=1)  # type: ignore[call-overload]
    with pytest.raises(InvalidArgumentError, match="stream_timeout must be positive"):
        await client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_timeout=0
        )
    with pytest.raises(InvalidArgumentError):
        await client.moderations.create(messages=[{"role": "tool", "content": "x"}])
    with pytest.raises(InvalidArgumentError, match="model must be"):
        await client.moderations.create(messages=HELLO, model="")
    assert server.requests == []


def test_bad_requests_never_reach_the_server_from_the_blocking_client(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking client checks arguments the same way, before any request."""
    with pytest.raises(InvalidArgumentError, match="tool_call_id is required"):
        sync_client.chat.completions.create(
            model=MODEL, messages=[{"role": "tool", "content": "x"}]
        )
    with pytest.raises(
        InvalidArgumentError,
        match=r"idle_timeout must be a positive number of seconds, or math\.inf for no limit",
    ):
        sync_client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, idle_timeout=-1
        )
    assert threaded_server.requests == []
