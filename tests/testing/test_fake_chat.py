"""Specification of the fake server's chat completion answers: default and scripted replies."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import aiohttp
import pytest

from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

from .chat_support import AUTH, MODEL, USER, WEATHER_TOOL, chat, complete, image, post

TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"utc_offset": {"type": "integer"}}},
    },
}


def _text(answer: dict[str, Any]) -> str:
    text: str = answer["completion_message"]["content"]["text"]
    return text


def _metrics(answer: dict[str, Any]) -> dict[str, int]:
    return {entry["metric"]: entry["value"] for entry in answer["metrics"]}


# -- the answer -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_default_reply_echoes_the_last_user_message(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """With nothing scripted, the answer is shaped like §8.2 and says "You said: <text>"."""
    body = chat(
        {"role": "system", "content": "You are a friendly assistant."},
        {"role": "user", "content": "Hello, world!"},
    )
    status, headers, raw = await post(session, f"{api.base_url}/chat/completions", body)
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert headers["x-ratelimit-limit-tokens"] == "2500000"
    answer = json.loads(raw)
    assert list(answer) == ["id", "completion_message", "metrics"]
    uuid.UUID(answer["id"])
    assert answer["completion_message"] == {
        "role": "assistant",
        "content": {"type": "text", "text": "You said: Hello, world!"},
        "stop_reason": "stop",
        "tool_calls": [],
    }
    assert answer["metrics"] == [
        {"metric": "num_completion_tokens", "value": 4, "unit": "tokens"},
        {"metric": "num_prompt_tokens", "value": 7, "unit": "tokens"},
        {"metric": "num_total_tokens", "value": 11, "unit": "tokens"},
    ]


@pytest.mark.anyio
async def test_default_reply_echoes_text_items(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Text items of the last user message are echoed joined by spaces; images are skipped."""
    content = [{"type": "text", "text": "What is"}, image(1), {"type": "text", "text": "this?"}]
    body = chat(
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": {"type": "text", "text": "ok"}},
        {"role": "user", "content": content},
    )
    assert _text(await complete(session, api.base_url, body)) == "You said: What is this?"


@pytest.mark.anyio
async def test_default_reply_calls_the_first_tool(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """With tools and a user turn last, the answer calls the first tool like §8.4."""
    answer = await complete(session, api.base_url, chat(USER, tools=[WEATHER_TOOL, TIME_TOOL]))
    message = answer["completion_message"]
    [call] = message.pop("tool_calls")
    assert message == {
        "role": "assistant",
        "content": {"type": "text", "text": ""},
        "stop_reason": "tool_calls",
    }
    assert list(call) == ["id", "function"]
    assert uuid.UUID(call["id"]).version == 4
    assert call["function"] == {"name": "get_weather", "arguments": '{"location":"example"}'}


@pytest.mark.anyio
async def test_default_reply_calls_the_chosen_tool(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A named tool_choice picks the tool; "none" turns tool calling off."""
    choice = {"type": "function", "function": {"name": "get_time"}}
    body = chat(USER, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=choice)
    [call] = (await complete(session, api.base_url, body))["completion_message"]["tool_calls"]
    assert call["function"] == {"name": "get_time", "arguments": '{"utc_offset":0}'}
    body = chat(USER, tools=[WEATHER_TOOL], tool_choice="none")
    answer = await complete(session, api.base_url, body)
    assert _text(answer) == "You said: What is the weather in Menlo Park?"
    assert answer["completion_message"]["tool_calls"] == []


@pytest.mark.anyio
async def test_default_reply_reports_a_tool_result(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """After a tool result, the answer is "The tool returned: <content>" (§8.4 follow-up)."""
    call_id = "466d49b7-8641-43bd-844e-ecac6a818974"
    body = chat(
        USER,
        {
            "role": "assistant",
            "stop_reason": "tool_calls",
            "tool_calls": [
                {
                    "id": call_id,
                    "function": {"name": "get_weather", "arguments": '{"location":"Menlo Park"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": '{"Menlo Park": "47f"}'},
        tools=[WEATHER_TOOL],
    )
    answer = await complete(session, api.base_url, body)
    assert _text(answer) == 'The tool returned: {"Menlo Park": "47f"}'
    assert answer["completion_message"]["stop_reason"] == "stop"


@pytest.mark.anyio
async def test_default_reply_to_a_json_schema_is_an_instance(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """With a json_schema response format, the text is compact JSON generated from the schema."""
    schema = {
        "type": "object",
        "properties": {
            "address": {"$ref": "#/$defs/Address"},
            "kind": {"enum": ["home", "work"]},
            "version": {"const": 2},
            "floors": {"type": "integer", "minimum": 1},
            "area": {"type": "number"},
            "verified": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "owner": {"oneOf": [{"type": "null"}, {"type": "string"}]},
            "rooms": {"type": ["integer", "null"]},
        },
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["street", "zip"],
            }
        },
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "Place", "schema": schema}}
    body = chat(response_format=response_format, tools=[WEATHER_TOOL])
    answer = await complete(session, api.base_url, body)
    text = _text(answer)
    assert " " not in text
    assert json.loads(text) == {
        "address": {"street": "example", "zip": "example"},
        "kind": "home",
        "version": 2,
        "floors": 1,
        "area": 0,
        "verified": False,
        "tags": [],
        "note": "example",
        "owner": None,
        "rooms": 0,
    }
    assert answer["completion_message"]["stop_reason"] == "stop"


@pytest.mark.anyio
async def test_default_reply_strings_follow_their_format_and_tuples_their_items(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Dates, times and uuids are valid ones; a fixed tuple gets one value per place."""
    schema = {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "on": {"type": "string", "format": "date"},
            "time": {"type": "string", "format": "time"},
            "id": {"type": "string", "format": "uuid"},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
        },
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "When", "schema": schema}}
    answer = await complete(session, api.base_url, chat(response_format=response_format))
    assert json.loads(_text(answer)) == {
        "at": "2025-01-01T00:00:00+00:00",
        "on": "2025-01-01",
        "time": "00:00:00",
        "id": "00000000-0000-4000-8000-000000000000",
        "pair": [0, "example"],
    }


@pytest.mark.anyio
async def test_max_completion_tokens_truncates_the_default_reply(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A default text reply longer than max_completion_tokens words is cut, with stop "length"."""
    body = chat({"role": "user", "content": "one two three"}, max_completion_tokens=3)
    answer = await complete(session, api.base_url, body)
    assert (_text(answer), answer["completion_message"]["stop_reason"]) == (
        "You said: one",
        "length",
    )
    assert _metrics(answer)["num_completion_tokens"] == 3
    body = chat({"role": "user", "content": "one two"}, max_completion_tokens=4)
    answer = await complete(session, api.base_url, body)
    assert (_text(answer), answer["completion_message"]["stop_reason"]) == (
        "You said: one two",
        "stop",
    )


@pytest.mark.anyio
async def test_scripted_replies_answer_in_fifo_order(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Queued replies answer one completion each, in order; then the default reply returns."""
    api.enqueue_replies(
        ChatReply.text("Cut short", stop_reason="length"),
        ChatReply.tool_call("get_weather", {"location": "Menlo Park"}, id="call-1"),
    )
    api.enqueue_replies(
        ChatReply.tool_call("broken", '{"location": '),
        ChatReply.tool_calls(("a", {"x": 1}), ("b", "{}")),
        ChatReply.json({"city": "Menlo Park", "zip": "94025"}),
    )
    assert api.pending_replies == 5
    messages = [
        (await complete(session, api.base_url, chat()))["completion_message"] for _ in range(6)
    ]
    assert api.pending_replies == 0
    assert messages[0]["content"]["text"] == "Cut short"
    assert messages[0]["stop_reason"] == "length"
    assert messages[1]["tool_calls"] == [
        {
            "id": "call-1",
            "function": {"name": "get_weather", "arguments": '{"location":"Menlo Park"}'},
        }
    ]
    assert (messages[1]["content"], messages[1]["stop_reason"]) == (
        {"type": "text", "text": ""},
        "tool_calls",
    )
    assert messages[2]["tool_calls"][0]["function"]["arguments"] == '{"location": '
    assert [call["function"] for call in messages[3]["tool_calls"]] == [
        {"name": "a", "arguments": '{"x":1}'},
        {"name": "b", "arguments": "{}"},
    ]
    assert messages[4]["content"]["text"] == '{"city":"Menlo Park","zip":"94025"}'
    assert messages[5]["content"]["text"] == "You said: Hello, world!"


@pytest.mark.anyio
async def test_one_reply_instance_keeps_its_tool_call_ids(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A reply queued twice sends the same generated tool-call id both times."""
    reply = ChatReply.tool_call("get_weather", {})
    api.enqueue_replies(reply, reply)
    first = await complete(session, api.base_url, chat())
    second = await complete(session, api.base_url, chat())
    assert first["completion_message"] == second["completion_message"]
    assert first["id"] != second["id"]


@pytest.mark.anyio
async def test_rejected_requests_leave_the_reply_queue_alone(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Requests answered with a 400, a 404 or a fault do not use up a scripted reply."""
    api.enqueue_replies(ChatReply.text("kept"))
    api.enqueue(Fault.error(503), Fault.stream_error())
    url = f"{api.base_url}/chat/completions"
    assert (await post(session, url, chat()))[0] == 503
    assert (await post(session, url, chat()))[0] == 500
    assert (await post(session, url, {"model": MODEL}))[0] == 400
    assert (await post(session, url, chat(model="nope")))[0] == 404
    assert api.pending_replies == 1
    assert _text(await complete(session, api.base_url, chat())) == "kept"


@pytest.mark.anyio
async def test_chat_tokens_count_against_the_rate_limit(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """The total tokens of a completion come off x-ratelimit-remaining-tokens afterwards."""
    answer = await complete(session, api.base_url, chat())
    _, headers, _ = await post(session, f"{api.base_url}/moderations", chat())
    assert int(headers["x-ratelimit-remaining-tokens"]) == (
        2_500_000 - _metrics(answer)["num_total_tokens"]
    )


@pytest.mark.anyio
async def test_prompt_tokens_count_words_of_every_message(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Prompt tokens are the words of all message text, tool-call arguments included."""
    body = chat(
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "Weather in Menlo Park?"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "1", "function": {"name": "w", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "1", "content": "47f"},
    )
    answer = await complete(session, api.base_url, body)
    assert _metrics(answer)["num_prompt_tokens"] == 2 + 4 + 2 + 1


# -- stream faults on requests that do not stream -----------------------------------------


@pytest.mark.anyio
async def test_stream_fault_on_a_request_that_does_not_stream_is_500(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A stream fault drawn by a non-streaming request answers 500 and says why."""
    api.enqueue(Fault.stream_cut(), Fault.stream_stall(keepalive_interval=1))
    status, _, raw = await post(session, f"{api.base_url}/chat/completions", chat())
    assert status == 500
    assert json.loads(raw) == {
        "title": "Internal Server Error",
        "detail": 'Fault.stream_cut() applies to a streaming chat completion ("stream": true), '
        "and this request was not one",
        "status": 500,
    }
    async with session.get(f"{api.base_url}/models", headers=AUTH) as response:
        assert response.status == 500
        assert "Fault.stream_stall()" in (await response.json())["detail"]
    assert api.pending_faults == 0


# -- constructors ---------------------------------------------------------------------------


def test_chat_reply_is_built_only_through_constructors() -> None:
    """Calling ChatReply() directly raises TypeError pointing at the classmethods."""
    with pytest.raises(TypeError, match="classmethods"):
        ChatReply()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ChatReply.text("ab", chunks=["a"], chunk_size=1), "either"),
        (lambda: ChatReply.text("ab", chunk_size=0), "chunk_size"),
        (lambda: ChatReply.text("ab", event_delay=-1), "event_delay"),
        (lambda: ChatReply.text("ab", event_delay=float("inf")), "event_delay"),
        (lambda: ChatReply.text("ab", chunks=["a", "c"]), "join to exactly the text"),
        (lambda: ChatReply.tool_call("f", "{}", chunks=["{"]), "the tool-call arguments"),
        (
            lambda: ChatReply.tool_calls(("f", "ab"), ("g", "cd"), chunks=["a", "bc", "d"]),
            "one tool call",
        ),
        (lambda: ChatReply.tool_calls(), "at least one"),
        (lambda: Fault.stream_error(-1), "after"),
        (lambda: Fault.stream_cut(True), "after"),
        (lambda: Fault.stream_stall(keepalive_interval=0), "keepalive_interval"),
        (lambda: Fault.stream_error(status=99), "status"),
    ],
    ids=[
        "chunks-and-size",
        "size-zero",
        "negative-delay",
        "infinite-delay",
        "chunks-text",
        "chunks-arguments",
        "chunks-straddle",
        "no-calls",
        "after-negative",
        "after-bool",
        "keepalive-zero",
        "error-status",
    ],
)
def test_constructors_reject_nonsense(build: Any, message: str) -> None:
    """Reply and stream-fault constructors raise ValueError for arguments no server can act on."""
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_enqueue_replies_takes_only_replies() -> None:
    """Queuing anything but a ChatReply raises TypeError and queues nothing."""
    api = FakeLlamaAPI()
    with pytest.raises(TypeError, match="ChatReply"):
        api.enqueue_replies(ChatReply.text("ok"), "not a reply")  # type: ignore[arg-type]
    assert api.pending_replies == 0
