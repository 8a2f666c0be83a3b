"""chat.completions.run_tools: bad calls and failing tools become error results; approve; max_iterations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from tool_support import (
    ANSWER,
    FORECAST_JSON,
    HELLO,
    MODEL,
    WEATHER_ARGS,
    Place,
    Seen,
    both_calls,
    tool_results,
    weather_tools,
)

from llama_models import (
    AsyncLlamaClient,
    LlamaClient,
    MaxIterationsError,
    ToolCall,
    ToolMessage,
)
from llama_models.testing import ChatReply, FakeLlamaAPI

pytestmark = pytest.mark.anyio


# -- what the model gets wrong becomes an error result -------------------------------------

BAD_CALLS = pytest.mark.parametrize(
    ("call", "problems"),
    [
        (
            ChatReply.tool_call("get_forecast", {"city": "Paris"}, id="bad"),
            ["there is no tool named 'get_forecast'", "get_weather, local_time"],
        ),
        (
            ChatReply.tool_call("get_weather", '{"place": {"city": "Par', id="bad"),
            ["arguments of tool call 'get_weather' are not valid JSON"],
        ),
        (
            ChatReply.tool_call("get_weather", '["Paris", "celsius"]', id="bad"),
            ["not a JSON object but an array"],
        ),
        (
            ChatReply.tool_call(
                "get_weather",
                {"place": {"city": 7}, "unit": "kelvin", "detail": "long"},
                id="bad",
            ),
            [
                "the arguments do not fit get_weather",
                "@ get_weather.place.city",
                "@ get_weather.unit",
                "@ get_weather.detail",
            ],
        ),
        (
            ChatReply.tool_call("get_weather", {"place": {"city": "Paris"}}, id="bad"),
            ["required field missing @ get_weather.unit"],
        ),
    ],
    ids=["unknown-tool", "not-json", "not-an-object", "wrong-types", "missing-argument"],
)


def check_error_result(body: dict[str, Any], problems: list[str]) -> None:
    ((call_id, content),) = tool_results(body)
    assert call_id == "bad"
    assert content.startswith("Error: ")
    for problem in problems:
        assert problem in content


@BAD_CALLS
async def test_a_bad_call_becomes_an_error_result_and_the_run_goes_on(
    client: AsyncLlamaClient, server: FakeLlamaAPI, call: ChatReply, problems: list[str]
) -> None:
    """An unknown tool or arguments that do not fit are told to the model; no tool runs."""
    seen: Seen = []
    server.enqueue_replies(call, ChatReply.text(ANSWER))
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    final = await runner.until_done()
    assert final.text == ANSWER
    assert seen == []
    check_error_result(server.requests[1].json(), problems)


@BAD_CALLS
def test_the_blocking_client_tells_the_model_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI, call: ChatReply, problems: list[str]
) -> None:
    """The blocking runner turns the same bad calls into the same error results."""
    seen: Seen = []
    threaded_server.enqueue_replies(call, ChatReply.text(ANSWER))
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen)
    )
    assert runner.until_done().text == ANSWER
    assert seen == []
    check_error_result(threaded_server.requests[1].json(), problems)


def failing_tools() -> list[Callable[..., Any]]:
    def get_weather(place: Place) -> str:
        """Look up the weather."""
        raise LookupError(f"no weather for {place.city}")

    async def local_time(place: Place) -> str:
        """Tell the time."""
        raise ValueError(f"{place.city} has no clock")

    def photo(place: Place) -> object:
        """Return something JSON cannot hold."""
        return object()

    def nothing(place: Place) -> None:
        """Return nothing."""

    return [get_weather, local_time, photo, nothing]


FAILURES = [
    "Error: get_weather raised LookupError: no weather for Atlantis",
    "Error: local_time raised ValueError: Atlantis has no clock",
    "Error: its result cannot be sent as JSON",
    "null",
]


def failing_calls() -> ChatReply:
    where = {"place": {"city": "Atlantis"}}
    return ChatReply.tool_calls(
        ("get_weather", where), ("local_time", where), ("photo", where), ("nothing", where)
    )


async def test_a_tool_that_raises_tells_the_model(
    codec_client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An exception in a tool, or a result JSON cannot hold, becomes an error result."""
    server.enqueue_replies(failing_calls(), ChatReply.text(ANSWER))
    runner = codec_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=failing_tools()
    )
    assert (await runner.until_done()).text == ANSWER
    contents = [content for _, content in tool_results(server.requests[1].json())]
    assert len(contents) == len(FAILURES)
    for content, expected in zip(contents, FAILURES, strict=True):
        assert content.startswith(expected)


def test_a_tool_that_raises_on_the_blocking_client_tells_the_model(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking runner reports the same failures, async tools' included."""
    threaded_server.enqueue_replies(failing_calls(), ChatReply.text(ANSWER))
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=failing_tools()
    )
    assert runner.until_done().text == ANSWER
    contents = [content for _, content in tool_results(threaded_server.requests[1].json())]
    assert len(contents) == len(FAILURES)
    for content, expected in zip(contents, FAILURES, strict=True):
        assert content.startswith(expected)


# -- approving calls -----------------------------------------------------------------------


def refusing(asked: list[ToolCall], *, is_async: bool) -> Callable[[ToolCall], Any]:
    """An approve hook that notes each call and refuses local_time."""

    def approve(call: ToolCall) -> bool:
        asked.append(call)
        return call.name != "local_time"

    async def approve_async(call: ToolCall) -> bool:
        asyncio.get_running_loop()
        return approve(call)

    return approve_async if is_async else approve


def check_refusal(
    reply: ChatReply, asked: list[ToolCall], seen: Seen, body: dict[str, Any]
) -> None:
    weather, time = reply.calls
    assert [(call.id, call.name) for call in asked] == [
        (weather.id, "get_weather"),
        (time.id, "local_time"),
    ]
    assert [name for name, _ in seen] == ["get_weather"]
    (ran, refused) = tool_results(body)
    assert ran[0] == weather.id
    assert json.loads(ran[1]) == FORECAST_JSON
    assert refused == (time.id, "Error: the call of 'local_time' was refused; do not call it again")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync-approve", "async-approve"])
async def test_a_refused_call_does_not_run_and_the_model_hears_of_it(
    client: AsyncLlamaClient, server: FakeLlamaAPI, is_async: bool
) -> None:
    """approve sees every call; one it refuses becomes an error result, the others run."""
    seen: Seen = []
    asked: list[ToolCall] = []
    reply = both_calls()
    server.enqueue_replies(reply, ChatReply.text(ANSWER))
    runner = client.chat.completions.run_tools(
        model=MODEL,
        messages=HELLO,
        tools=weather_tools(seen),
        approve=refusing(asked, is_async=is_async),
    )
    assert (await runner.until_done()).text == ANSWER
    check_refusal(reply, asked, seen, server.requests[1].json())


@pytest.mark.parametrize("is_async", [False, True], ids=["sync-approve", "async-approve"])
def test_the_blocking_client_asks_approve_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI, is_async: bool
) -> None:
    """The blocking runner honours a refusal, from an async approve (run on its loop) too."""
    seen: Seen = []
    asked: list[ToolCall] = []
    reply = both_calls()
    threaded_server.enqueue_replies(reply, ChatReply.text(ANSWER))
    runner = sync_client.chat.completions.run_tools(
        model=MODEL,
        messages=HELLO,
        tools=weather_tools(seen),
        approve=refusing(asked, is_async=is_async),
    )
    assert runner.until_done().text == ANSWER
    check_refusal(reply, asked, seen, threaded_server.requests[1].json())


async def test_an_approve_hook_that_raises_waits_for_the_other_calls(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The hook's error ends the run only once every call of the turn has finished."""
    finished: list[str] = []

    async def slow(n: int) -> str:
        """Finish after the refusal of the other call has been raised."""
        await asyncio.sleep(0)  # let the other call's approval fail first
        finished.append("slow")
        return "done"

    def broken(n: int) -> str:
        """Never approved."""
        return "never"

    def approve(call: ToolCall) -> bool:
        if call.name == "broken":
            raise RuntimeError("the approval service is down")
        return True

    server.enqueue_replies(ChatReply.tool_calls(("slow", {"n": 1}), ("broken", {"n": 2})))
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=[slow, broken], approve=approve
    )
    with pytest.raises(RuntimeError, match="approval service is down"):
        await runner.until_done()
    assert finished == ["slow"]


# -- the bound on requests -----------------------------------------------------------------


async def test_max_iterations_ends_a_run_that_keeps_calling_tools(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """After max_iterations requests still calling tools, MaxIterationsError holds the talk."""
    seen: Seen = []
    calls = [ChatReply.tool_call("get_weather", WEATHER_ARGS, id=f"call-{i}") for i in range(3)]
    server.enqueue_replies(*calls)
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen), max_iterations=2
    )
    with pytest.raises(MaxIterationsError, match="max_iterations=2") as caught:
        await runner.until_done()
    assert len(server.requests) == 2
    assert len(seen) == 2
    messages = caught.value.messages
    assert messages == runner.messages
    assert len(messages) == 5
    assert [m.tool_call_id for m in messages if isinstance(m, ToolMessage)] == ["call-0", "call-1"]
    with pytest.raises(MaxIterationsError):  # asking again sends nothing more
        await runner.__anext__()
    assert len(server.requests) == 2


def test_max_iterations_bounds_the_blocking_run_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking runner yields max_iterations completions, then raises MaxIterationsError."""
    seen: Seen = []
    threaded_server.enqueue_replies(
        *[ChatReply.tool_call("get_weather", WEATHER_ARGS, id=f"call-{i}") for i in range(2)]
    )
    runner = sync_client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=weather_tools(seen), max_iterations=1
    )
    first = next(runner)
    assert first.stop_reason == "tool_calls"
    with pytest.raises(MaxIterationsError, match="max_iterations=1") as caught:
        next(runner)
    assert len(threaded_server.requests) == 1
    assert len(caught.value.messages) == 3
    assert isinstance(caught.value.messages[-1], ToolMessage)
