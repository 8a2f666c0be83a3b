"""Specification of the fake server's checks of chat completion requests (llama-api.md §1.3, §4)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from llama_models.testing import FakeLlamaAPI

from .chat_support import AUTH, MODEL, STREAM_HEADERS, USER, WEATHER_TOOL, chat, image, post

_TOO_MANY_IMAGES = [{"role": "user", "content": [image(n) for n in range(5)]}] * 2

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("no-model", {"messages": [USER]}, "model is required"),
    ("model-number", {"model": 7, "messages": [USER]}, "model must be a string"),
    ("no-messages", {"model": MODEL}, "messages is required"),
    ("messages-object", chat(messages={"role": "user"}), "messages must be a list"),
    ("messages-empty", chat(messages=[]), "messages must not be empty"),
    ("message-string", chat("hi"), "messages[0] must be an object"),  # type: ignore[arg-type]
    (
        "role-unknown",
        chat({"role": "developer", "content": "x"}),
        "messages[0].role must be one of user, system, assistant, tool",
    ),
    (
        "role-missing",
        chat({"content": "x"}),
        "messages[0].role must be one of user, system, assistant, tool",
    ),
    ("user-no-content", chat({"role": "user"}), "messages[0].content is required"),
    ("system-no-content", chat({"role": "system"}), "messages[0].content is required"),
    (
        "tool-no-id",
        chat(USER, {"role": "assistant", "content": "x"}, {"role": "tool", "content": "47f"}),
        "messages[2].tool_call_id is required",
    ),
    (
        "tool-id-number",
        chat({"role": "tool", "content": "x", "tool_call_id": 1}),
        "messages[0].tool_call_id must be a string",
    ),
    (
        "tool-no-content",
        chat({"role": "tool", "tool_call_id": "1"}),
        "messages[0].content is required",
    ),
    (
        "content-number",
        chat({"role": "user", "content": 5}),
        "messages[0].content must be a string or a list of content items",
    ),
    (
        "content-null",
        chat({"role": "assistant", "content": None}),
        "messages[0].content must be a string or one text item",
    ),
    (
        "assistant-content-list",
        chat({"role": "assistant", "content": [{"type": "text", "text": "x"}]}),
        "messages[0].content must be a string or one text item",
    ),
    (
        "system-image",
        chat({"role": "system", "content": [image(1)]}),
        "messages[0].content[0].type must be 'text'",
    ),
    (
        "tool-image",
        chat({"role": "tool", "tool_call_id": "1", "content": [image(1)]}),
        "messages[0].content[0].type must be 'text'",
    ),
    (
        "item-type-old-image",
        chat({"role": "user", "content": [{"type": "image", "image": {"url": "x"}}]}),
        "messages[0].content[0].type must be 'text' or 'image_url'",
    ),
    (
        "item-string",
        chat({"role": "user", "content": ["hi"]}),
        "messages[0].content[0] must be a content item object",
    ),
    (
        "text-item-no-text",
        chat({"role": "user", "content": [{"type": "text"}]}),
        "messages[0].content[0].text is required",
    ),
    (
        "image-no-url",
        chat({"role": "user", "content": [{"type": "image_url", "image_url": {}}]}),
        "messages[0].content[0].image_url.url is required",
    ),
    (
        "image-url-string",
        chat({"role": "user", "content": [{"type": "image_url", "image_url": "https://x"}]}),
        "messages[0].content[0].image_url must be an object with a url",
    ),
    (
        "assistant-stop-reason",
        chat({"role": "assistant", "content": "x", "stop_reason": "end_of_turn"}),
        "messages[0].stop_reason must be one of stop, tool_calls, length",
    ),
    (
        "assistant-tool-call-no-name",
        chat({"role": "assistant", "tool_calls": [{"id": "1", "function": {"arguments": "{}"}}]}),
        "messages[0].tool_calls[0].function.name is required",
    ),
    (
        "assistant-tool-call-object-arguments",
        chat(
            {
                "role": "assistant",
                "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": {}}}],
            }
        ),
        "messages[0].tool_calls[0].function.arguments must be a string",
    ),
    (
        "max-tokens-zero",
        chat(max_completion_tokens=0),
        "max_completion_tokens must be an integer >= 1",
    ),
    (
        "max-tokens-float",
        chat(max_completion_tokens=2.0),
        "max_completion_tokens must be an integer >= 1",
    ),
    (
        "max-tokens-bool",
        chat(max_completion_tokens=True),
        "max_completion_tokens must be an integer >= 1",
    ),
    ("temperature-high", chat(temperature=1.01), "temperature must be a number between 0 and 1"),
    (
        "temperature-negative",
        chat(temperature=-0.1),
        "temperature must be a number between 0 and 1",
    ),
    ("temperature-string", chat(temperature="0.5"), "temperature must be a number between 0 and 1"),
    ("top-p-high", chat(top_p=1.5), "top_p must be a number between 0 and 1"),
    ("top-k-negative", chat(top_k=-1), "top_k must be an integer >= 0"),
    ("top-k-null", chat(top_k=None), "top_k must be an integer >= 0"),
    (
        "penalty-low",
        chat(repetition_penalty=0.9),
        "repetition_penalty must be a number between 1 and 2",
    ),
    (
        "penalty-high",
        chat(repetition_penalty=2.5),
        "repetition_penalty must be a number between 1 and 2",
    ),
    (
        "ten-images",
        chat(*_TOO_MANY_IMAGES),
        "messages carry 10 images; at most 9 are allowed per request",
    ),
    ("stream-string", chat(stream="true"), "stream must be a boolean"),
    ("user-number", chat(user=1), "user must be a string"),
    (
        "format-json-object",
        chat(response_format={"type": "json_object"}),
        "response_format.type must be 'text' or 'json_schema'",
    ),
    (
        "format-no-schema",
        chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}),
        "response_format.json_schema.schema must be a JSON Schema object",
    ),
    ("tools-object", chat(tools={}), "tools must be a list"),
    (
        "tool-type",
        chat(tools=[{"type": "code", "function": {"name": "f"}}]),
        "tools[0].type must be 'function'",
    ),
    (
        "tool-name",
        chat(tools=[{"type": "function", "function": {"name": "get weather"}}]),
        "tools[0].function.name must be 1 to 64 letters, digits, '_' or '-'",
    ),
    (
        "tool-choice-unknown",
        chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "nope"}}),
        "tool_choice names 'nope', which is not in tools",
    ),
    (
        "tool-choice-string",
        chat(tool_choice="any"),
        "tool_choice must be 'none', 'auto', 'required' or "
        '{"type": "function", "function": {"name": ...}}',
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "detail"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
async def test_invalid_request_is_400_naming_the_field(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, body: dict[str, Any], detail: str
) -> None:
    """A request that breaks a documented rule gets 400 and a detail naming the field."""
    status, headers, raw = await post(session, f"{api.base_url}/chat/completions", body)
    assert (status, headers["Content-Type"]) == (400, "application/json")
    assert json.loads(raw) == {"title": "Bad request", "detail": detail, "status": 400}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "data", "detail"),
    [
        (
            {"Content-Type": "text/plain"},
            b"{}",
            "Content-Type must be application/json, got text/plain",
        ),
        ({}, b"", "Content-Type must be application/json, got none"),
        ({"Content-Type": "application/json"}, b'{"model": ', "the body is not valid JSON"),
        ({"Content-Type": "application/json"}, b"\xff", "the body is not valid JSON"),
        ({"Content-Type": "application/json"}, b"[]", "the body must be a JSON object"),
    ],
    ids=["text-plain", "no-content-type", "truncated-json", "not-utf8", "array"],
)
async def test_body_that_is_not_a_json_object_is_400(
    api: FakeLlamaAPI,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    data: bytes,
    detail: str,
) -> None:
    """The body must be a JSON object sent as application/json."""
    url = f"{api.base_url}/chat/completions"
    skip = ["Content-Type"]  # aiohttp would label the bytes application/octet-stream
    async with session.post(
        url, data=data, headers={**AUTH, **headers}, skip_auto_headers=skip
    ) as response:
        assert response.status == 400
        assert await response.json() == {"title": "Bad request", "detail": detail, "status": 400}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*"], ids=["missing", "json", "wildcard"]
)
async def test_stream_without_event_stream_accept_is_400(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, accept: str | None
) -> None:
    """ "stream": true needs an Accept header naming text/event-stream (§3.1)."""
    headers = {**AUTH, "Accept": accept} if accept is not None else AUTH
    url = f"{api.base_url}/chat/completions"
    async with session.post(
        url, json=chat(stream=True), headers=headers, skip_auto_headers=["Accept"]
    ) as response:
        assert response.status == 400
        assert (await response.json())["detail"] == (
            "stream: true needs an Accept header with text/event-stream"
        )


@pytest.mark.anyio
async def test_lenient_where_the_api_is(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """Unknown keys, boundary values, nine images and stream: false with an SSE Accept all pass."""
    body = chat(
        {"role": "user", "content": [image(n) for n in range(9)]},
        {"role": "assistant", "stop_reason": "tool_calls", "tool_calls": []},
        {"role": "tool", "tool_call_id": "1", "content": [{"type": "text", "text": "47f"}]},
        {"role": "user", "content": []},
        max_tokens=5,
        something_new={"nested": True},
        temperature=0,
        top_p=1,
        top_k=0,
        repetition_penalty=2,
        max_completion_tokens=1,
        stream=False,
        user="hashed-user",
        response_format={"type": "text"},
        tool_choice="required",
    )
    url = f"{api.base_url}/chat/completions"
    status, headers, raw = await post(session, url, body, STREAM_HEADERS)
    assert (status, headers["Content-Type"]) == (200, "application/json"), raw


@pytest.mark.anyio
async def test_unknown_model_is_404(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A model that is not in the catalogue gets 404 "Model <id> not found"."""
    status, _, raw = await post(session, f"{api.base_url}/chat/completions", chat(model="nope"))
    assert status == 404
    assert json.loads(raw) == {
        "title": "Not found",
        "detail": "Model nope not found",
        "status": 404,
    }


@pytest.mark.anyio
async def test_chat_needs_the_api_key(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A chat completion without the key gets 401, like every endpoint."""
    status, _, _ = await post(session, f"{api.base_url}/chat/completions", chat(), headers={})
    assert status == 401
