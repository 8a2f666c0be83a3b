"""chat.completions.run_tools: a run from question to answer, its concurrent calls, turn by turn."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from typing import Any

import pytest
from tool_support import (
    ANSWER,
    FORECAST_JSON,
    HELLO,
    MODEL,
    TIME_ARGS,
    WEATHER_ARGS,
    Place,
    Seen,
    Unit,
    both_calls,
    tool_results,
    weather_tools,
)

from llama_models import (
    AssistantMessage,
    AsyncLlamaClient,
    AsyncToolRunner,
    ChatCompletion,
    LlamaClient,
    ToolMessage,
    UserMessage,
)
from llama_models.testing import ChatReply, FakeLlamaAPI

pytestmark = pytest.mark.anyio

# Long enough for a slow machine, short enough that a run gone sequential fails quickly.
WAIT = 5.0


WEATHER_TOOLS_SENT = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Look up today's weather somewhere.",
            "parameters": {
                "type": "object",
                "properties": {
                    "place": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "country": {"type": "string", "default": "FR"},
                        },
                        "required": ["city"],
                        "additionalProperties": False,
                        "description": "the city and country to look up.",
                    },
                    "unit": {
                        "type": "string",
                        "enum": ["celsius", "fahrenheit"],
                        "description": "the unit of the temperature.",
                    },
                    "detail": {
                        "type": "string",
                        "enum": ["brief", "full"],
                        "description": "how much to say.",
                        "default": "brief",
                    },
                },
                "required": ["place", "unit"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "local_time",
            "description": "Tell the local time somewhere.",
            "parameters": {
                "type": "object",
                "properties": {
                    "place": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "country": {"type": "string", "default": "FR"},
                        },
                        "required": ["city"],
                        "additionalProperties": False,
                    }
                },
                "required": ["place"],
                "additionalProperties": False,
            },
        },
    },
]


def assistant_turn(reply: ChatReply) -> dict[str, Any]:
    """The JSON of the assistant message that *reply* makes, as sent back in the next request."""
    return {
        "role": "assistant",
        "content": {"type": "text", "text": ""},
        "stop_reason": "tool_calls",
        "tool_calls": [
            {"id": call.id, "function": {"name": call.name, "arguments": call.arguments}}
            for call in reply.calls
        ],
    }


def check_two_turns(
    requests: list[Any], reply: ChatReply, seen: Seen, final: ChatCompletion, runner: Any
) -> None:
    """What a run of `both_calls` then `ANSWER` leaves behind, on either client."""
    assert final.text == ANSWER
    assert final.stop_reason == "stop"
    assert seen == [
        ("get_weather", (Place("Paris"), Unit.CELSIUS, "full")),
        ("local_time", (Place("Lyon"),)),
    ]
    assert seen[0][1][1] is Unit.CELSIUS
    first, second = (request.json() for request in requests)
    assert first == {"model": MODEL, "messages": HELLO, "tools": WEATHER_TOOLS_SENT}
    weather, time = reply.calls
    assert second["tools"] == WEATHER_TOOLS_SENT
    assert second["messages"][:2] == [HELLO[0], assistant_turn(reply)]
    assert second["messages"][2:] == [
        {"role": "tool", "tool_call_id": weather.id, "content": second["messages"][2]["content"]},
        {"role": "tool", "tool_call_id": time.id, "content": "14:05"},
    ]
    assert json.loads(second["messages"][2]["content"]) == FORECAST_JSON
    assert len(runner.messages) == 5
    assert runner.messages[0] == HELLO[0]
    assert isinstance(runner.messages[1], AssistantMessage)
    assert [call.id for call in runner.messages[1].tool_calls] == [weather.id, time.id]
    assert runner.messages[2:4] == [
        ToolMessage(weather.id, second["messages"][2]["content"]),
        ToolMessage(time.id, "14:05"),
    ]
    assert runner.messages[-1] == final.completion_message


# -- a run from question to answer ---------------------------------------------------------


async def test_a_run_calls_the_tools_then_returns_the_answer(
    codec_client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Calls get structured arguments, their results go back by call id, the answer ends it."""
    seen: Seen = []
    reply = both_calls()
    server.enqueue_replies(reply, ChatReply.text(ANSWER))
    runner = codec_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    assert isinstance(runner, AsyncToolRunner)
    assert server.requests == []  # nothing is sent before the run is iterated
    final = await runner.until_done()
    check_two_turns(server.requests, reply, seen, final, runner)
    assert len(HELLO) == 1  # the caller's list is left alone


def test_the_blocking_client_runs_the_same_conversation(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """Same requests; sync tools run in the caller's thread, async ones on the client's loop."""
    seen: Seen = []
    threads: dict[str, int] = {}
    reply = both_calls()
    threaded_server.enqueue_replies(reply, ChatReply.text(ANSWER))
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen, threads)
    )
    assert threaded_server.requests == []
    final = runner.until_done()
    check_two_turns(threaded_server.requests, reply, seen, final, runner)
    assert threads["get_weather"] == threading.get_ident()
    assert threads["local_time"] != threading.get_ident()


async def test_options_go_out_with_every_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Other create() options (tool_choice, temperature, headers...) reach each request."""
    seen: Seen = []
    server.enqueue_replies(both_calls(), ChatReply.text(ANSWER))
    runner = client.chat.completions.run_tools(
        model=MODEL,
        messages=[UserMessage("Weather?")],
        tools=weather_tools(seen),
        tool_choice="auto",
        temperature=0.1,
        max_completion_tokens=256,
        extra_headers={"X-Trace": "t1"},
    )
    await runner.until_done()
    assert len(server.requests) == 2
    for request in server.requests:
        body = request.json()
        assert (body["tool_choice"], body["temperature"], body["max_completion_tokens"]) == (
            "auto",
            0.1,
            256,
        )
        assert "stream" not in body
        assert request.headers["X-Trace"] == "t1"


async def test_the_fake_runs_an_unscripted_conversation(client: AsyncLlamaClient) -> None:
    """Unscripted, the fake calls the first tool with schema-made arguments, then answers."""
    seen: Seen = []
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    final = await runner.until_done()
    assert seen == [("get_weather", (Place("example", "example"), Unit.CELSIUS, "brief"))]
    assert final.text.startswith("The tool returned: ")
    assert json.loads(final.text.removeprefix("The tool returned: ")) == {
        **FORECAST_JSON,
        "place": {"city": "example", "country": "example"},
    }


# -- the calls of one turn -----------------------------------------------------------------


async def test_the_calls_of_a_turn_run_concurrently_and_keep_their_order(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Each tool waits for the other, which only concurrent calls survive; results stay in order."""
    first_started = asyncio.Event()
    second_done = asyncio.Event()
    finished: list[str] = []

    async def first(n: int) -> str:
        """Start, then wait for the second call to finish."""
        first_started.set()
        await asyncio.wait_for(second_done.wait(), WAIT)
        finished.append("first")
        return f"first {n}"

    async def second(n: int) -> str:
        """Wait for the first call to start, then finish."""
        await asyncio.wait_for(first_started.wait(), WAIT)
        second_done.set()
        finished.append("second")
        return f"second {n}"

    reply = ChatReply.tool_calls(("first", {"n": 1}), ("second", {"n": 2}))
    server.enqueue_replies(reply, ChatReply.text("Both done."))
    runner = client.chat.completions.run_tools(model=MODEL, messages=HELLO, tools=[first, second])
    final = await asyncio.wait_for(runner.until_done(), 2 * WAIT)
    assert final.text == "Both done."
    assert finished == ["second", "first"]
    ids = [call.id for call in reply.calls]
    assert tool_results(server.requests[1].json()) == [
        (ids[0], "first 1"),
        (ids[1], "second 2"),
    ]


def test_the_blocking_client_runs_the_calls_one_after_another(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """On the blocking client the calls of a turn run in order, in the caller's thread."""
    order: list[tuple[str, int]] = []

    def tick(n: int) -> int:
        """Note the call."""
        order.append(("tick", threading.get_ident()))
        return n

    def tock(n: int) -> int:
        """Note the call."""
        order.append(("tock", threading.get_ident()))
        return -n

    reply = ChatReply.tool_calls(("tock", {"n": 1}), ("tick", {"n": 2}), ("tock", {"n": 3}))
    threaded_server.enqueue_replies(reply, ChatReply.text("Done."))
    runner = sync_client.chat.completions.run_tools(model=MODEL, messages=HELLO, tools=[tick, tock])
    assert runner.until_done().text == "Done."
    me = threading.get_ident()
    assert order == [("tock", me), ("tick", me), ("tock", me)]
    ids = [call.id for call in reply.calls]
    assert tool_results(threaded_server.requests[1].json()) == list(
        zip(ids, ["-1", "2", "-3"], strict=True)
    )


# -- turn by turn --------------------------------------------------------------------------


async def test_iterating_gives_each_completion_as_it_comes(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Each step sends one request and yields its completion, its calls already answered."""
    seen: Seen = []
    server.enqueue_replies(
        ChatReply.tool_call("get_weather", WEATHER_ARGS, id="call-1"),
        ChatReply.tool_call("local_time", TIME_ARGS, id="call-2"),
        ChatReply.text(ANSWER),
    )
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    steps = []
    async for completion in runner:
        steps.append((completion.stop_reason, len(server.requests), len(runner.messages)))
        if completion.tool_calls:  # answered already
            assert isinstance(runner.messages[-1], ToolMessage)
        else:
            assert runner.messages[-1] == completion.completion_message
    assert steps == [("tool_calls", 1, 3), ("tool_calls", 2, 5), ("stop", 3, 6)]
    assert [name for name, _ in seen] == ["get_weather", "local_time"]
    assert [m.tool_call_id for m in runner.messages if isinstance(m, ToolMessage)] == [
        "call-1",
        "call-2",
    ]
    final = await runner.until_done()  # already done: no request
    assert final.text == ANSWER
    assert [c async for c in runner] == []
    assert len(server.requests) == 3


def test_the_blocking_runner_iterates_the_same(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking runner is an iterator of the same completions, one request each."""
    seen: Seen = []
    threaded_server.enqueue_replies(
        ChatReply.tool_call("get_weather", WEATHER_ARGS, id="call-1"),
        ChatReply.text(ANSWER),
    )
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    steps = [(c.stop_reason, len(threaded_server.requests), len(runner.messages)) for c in runner]
    assert steps == [("tool_calls", 1, 3), ("stop", 2, 4)]
    assert runner.until_done().text == ANSWER
    assert list(runner) == []
    assert len(threaded_server.requests) == 2


# -- the blocking client from inside a tool ------------------------------------------------


def test_a_tool_may_call_the_blocking_client_it_runs_under(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """A sync tool runs in the caller's thread, so it can use the same blocking client."""

    def count_models() -> int:
        """Count the models the API serves."""
        return len(sync_client.models.list())

    threaded_server.enqueue_replies(
        ChatReply.tool_call("count_models", {}, id="call-1"), ChatReply.text("Done.")
    )
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=[count_models]
    )
    assert runner.until_done().text == "Done."
    paths = [request.path for request in threaded_server.requests]
    assert paths == ["/v1/chat/completions", "/v1/models", "/v1/chat/completions"]
    ((call_id, content),) = tool_results(threaded_server.requests[2].json())
    assert call_id == "call-1"
    assert int(content) == len(sync_client.models.list()) > 0


def test_a_wrapped_async_tool_is_awaited_on_the_blocking_client(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """A sync wrapper that returns a coroutine has its result awaited, as on the async client."""

    async def local_time(place: Place) -> str:
        """Tell the local time somewhere."""
        return f"14:05 in {place.city}"

    @functools.wraps(local_time)
    def logged(*args: Any, **kwargs: Any) -> Any:
        return local_time(*args, **kwargs)

    threaded_server.enqueue_replies(
        ChatReply.tool_call("local_time", TIME_ARGS, id="call-1"), ChatReply.text(ANSWER)
    )
    runner = sync_client.chat.completions.run_tools(model=MODEL, messages=HELLO, tools=[logged])
    assert runner.until_done().text == ANSWER
    assert tool_results(threaded_server.requests[1].json()) == [("call-1", "14:05 in Lyon")]
