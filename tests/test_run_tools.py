"""chat.completions.run_tools: the model calls plain Python functions until it answers."""

from __future__ import annotations

import asyncio
import datetime
import enum
import functools
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import attrs
import pytest

from llama_models import (
    AssistantMessage,
    AsyncLlamaClient,
    AsyncToolRunner,
    ChatCompletion,
    FunctionTool,
    InvalidArgumentError,
    LlamaClient,
    MaxIterationsError,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
    function_tool,
)
from llama_models._converter import make_converter
from llama_models.testing import ChatReply, FakeLlamaAPI

pytestmark = pytest.mark.anyio

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "What is the weather in Paris, and the time in Lyon?"}]
ANSWER = "It is 21.5 °C in Paris, and 14:05 in Lyon."
TODAY = datetime.date(2024, 5, 1)
# Long enough for a slow machine, short enough that a run gone sequential fails quickly.
WAIT = 5.0


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@attrs.frozen
class Place:
    city: str
    country: str = "FR"


@attrs.frozen
class Forecast:
    place: Place
    day: datetime.date
    unit: Unit
    temperature: float


Seen = list[tuple[str, tuple[Any, ...]]]
WEATHER_ARGS = {"place": {"city": "Paris"}, "unit": "celsius", "detail": "full"}
TIME_ARGS = {"place": {"city": "Lyon", "country": "FR"}}
FORECAST_JSON = {
    "place": {"city": "Paris", "country": "FR"},
    "day": "2024-05-01",
    "unit": "celsius",
    "temperature": 21.5,
}


def weather_tools(
    seen: Seen, threads: dict[str, int] | None = None
) -> tuple[Callable[..., Forecast], Callable[..., Awaitable[str]]]:
    """A sync and an async tool that note each call in *seen*, and their thread in *threads*."""
    threads = {} if threads is None else threads

    def get_weather(
        place: Place, unit: Unit, detail: Literal["brief", "full"] = "brief"
    ) -> Forecast:
        """Look up today's weather somewhere.

        Args:
            place: the city and country to look up.
            unit: the unit of the temperature.
            detail: how much to say.
        """
        seen.append(("get_weather", (place, unit, detail)))
        threads["get_weather"] = threading.get_ident()
        return Forecast(place, TODAY, unit, 21.5)

    async def local_time(place: Place) -> str:
        """Tell the local time somewhere."""
        asyncio.get_running_loop()  # an async tool runs on an event loop
        seen.append(("local_time", (place,)))
        threads["local_time"] = threading.get_ident()
        return "14:05"

    return get_weather, local_time


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


def both_calls() -> ChatReply:
    return ChatReply.tool_calls(("get_weather", WEATHER_ARGS), ("local_time", TIME_ARGS))


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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


def tool_results(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (tool_call_id, content) of every tool message in a request body."""
    return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]


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


@pytest.fixture(params=["json", "orjson"])
async def codec_client(
    request: pytest.FixtureRequest, server: FakeLlamaAPI
) -> AsyncIterator[AsyncLlamaClient]:
    """An async client with a strict converter of either codec (orjson is the default one)."""
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        converter=make_converter(strict=True, codec=request.param),
    ) as llama:
        yield llama


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


# -- arguments refused before anything is sent ---------------------------------------------


def untyped(city):  # type: ignore[no-untyped-def]
    """No type hints."""
    return city


def star_args(*cities: str) -> str:
    """Takes *args."""
    return ",".join(cities)


def one_city(city: str) -> str:
    """Say the city."""
    return city


def star_args_free(country: str) -> str:
    """Another function, to be named one_city."""
    return country


def check_nothing_sent(
    run_tools: Callable[..., Any],
    requests: Callable[[], list[Any]],
    arguments: dict[str, Any],
    match: str,
) -> None:
    options: dict[str, Any] = {"model": MODEL, "messages": HELLO, "tools": [one_city]}
    with pytest.raises(InvalidArgumentError, match=match):
        run_tools(**{**options, **arguments})
    assert requests() == []


BAD_ARGUMENTS = pytest.mark.parametrize(
    ("arguments", "match"),
    [
        pytest.param(
            {"max_iterations": 0},
            "max_iterations must be an int of at least 1, not 0",
            id="zero-iterations",
        ),
        pytest.param({"max_iterations": -1}, "at least 1, not -1", id="negative-iterations"),
        pytest.param({"max_iterations": True}, "at least 1, not True", id="bool-iterations"),
        pytest.param({"max_iterations": 2.0}, "at least 1, not 2.0", id="float-iterations"),
        pytest.param({"tools": []}, "at least one tool", id="no-tools"),
        pytest.param(
            {"tools": [42]},
            r"tools\[0\] must be a function or a FunctionTool, not int",
            id="not-callable",
        ),
        pytest.param({"tools": "one_city"}, "must be a list", id="a-string"),
        pytest.param({"tools": {"one_city": one_city}}, "must be a list", id="a-dict"),
        pytest.param(
            {"tools": [one_city, FunctionTool.from_function(star_args_free, name="one_city")]},
            r"tools\[1\]: two tools are named 'one_city'",
            id="two-of-one-name",
        ),
        pytest.param({"tools": [one_city, one_city]}, "two tools are named", id="the-same-twice"),
        pytest.param(
            {"tools": [untyped]}, r"'city' of untyped\(\) has no annotation", id="no-type-hints"
        ),
        pytest.param({"tools": [star_args]}, r"takes \*cities", id="star-args"),
        pytest.param({"stream": True}, "run_tools does not take stream", id="stream"),
        pytest.param(
            {"response_format": {"type": "text"}},
            "does not take response_format",
            id="response_format",
        ),
        pytest.param({"model": ""}, "model must be a non-empty model id", id="no-model"),
    ],
)


@BAD_ARGUMENTS
async def test_bad_arguments_are_refused_before_sending(
    client: AsyncLlamaClient, server: FakeLlamaAPI, arguments: dict[str, Any], match: str
) -> None:
    """run_tools itself raises InvalidArgumentError naming the problem, before the run starts."""
    check_nothing_sent(client.chat.completions.run_tools, lambda: server.requests, arguments, match)


@BAD_ARGUMENTS
def test_the_blocking_client_refuses_them_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI, arguments: dict[str, Any], match: str
) -> None:
    """The blocking run_tools refuses the same arguments, sending nothing."""
    check_nothing_sent(
        sync_client.chat.completions.run_tools, lambda: threaded_server.requests, arguments, match
    )


# -- tools made with function_tool and FunctionTool.from_function --------------------------


@function_tool
def to_fahrenheit(celsius: float) -> float:
    """Convert a temperature to degrees Fahrenheit.

    Args:
        celsius: the temperature in degrees Celsius.
    """
    return celsius * 9 / 5 + 32


@function_tool(name="find_city", description="Find a city by its name.")
def lookup(name: str, country: str | None = None) -> Place:
    """A summary that the description given replaces.

    Args:
        name: the city's name.
        country: its country, when known.
    """
    return Place(name, country or "FR")


def _shout(text: str) -> str:
    """Say something loudly.

    Args:
        text: what to say.
    """
    return text.upper()


SHOUT = FunctionTool.from_function(_shout, name="shout", description="Upper-case some text.")


def test_function_tool_builds_the_tool_from_the_function() -> None:
    """The decorator and from_function keep the function and describe it as a Tool."""
    assert isinstance(to_fahrenheit, FunctionTool)
    assert to_fahrenheit.name == "to_fahrenheit"
    assert to_fahrenheit.function(100) == 212
    assert to_fahrenheit.tool == Tool(
        name="to_fahrenheit",
        description="Convert a temperature to degrees Fahrenheit.",
        parameters={
            "type": "object",
            "properties": {
                "celsius": {"type": "number", "description": "the temperature in degrees Celsius."}
            },
            "required": ["celsius"],
            "additionalProperties": False,
        },
    )
    assert lookup.name == "find_city"
    assert lookup.tool.description == "Find a city by its name."
    assert lookup.tool.parameters == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the city's name."},
            "country": {
                "type": ["string", "null"],
                "description": "its country, when known.",
                "default": None,
            },
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    assert SHOUT.function is _shout
    assert (SHOUT.name, SHOUT.tool.description) == ("shout", "Upper-case some text.")


async def test_built_tools_run_under_their_own_names(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Tools made by function_tool or from_function are sent as built and called by their name."""
    reply = ChatReply.tool_calls(
        ("to_fahrenheit", {"celsius": 12}),
        ("find_city", {"name": "Oslo", "country": "NO"}),
        ("shout", {"text": "hi"}),
        ("lookup", {"name": "Oslo"}),
    )
    server.enqueue_replies(reply, ChatReply.text("Done."))
    runner = client.chat.completions.run_tools(
        model=MODEL, messages=HELLO, tools=[to_fahrenheit, lookup, SHOUT]
    )
    assert (await runner.until_done()).text == "Done."
    sent = server.requests[0].json()["tools"]
    assert sent == [tool.tool.to_dict() for tool in (to_fahrenheit, lookup, SHOUT)]
    assert [tool["function"]["name"] for tool in sent] == ["to_fahrenheit", "find_city", "shout"]
    assert sent[2]["function"]["parameters"]["properties"]["text"]["description"] == "what to say."
    contents = [content for _, content in tool_results(server.requests[1].json())]
    assert contents[:3] == ["53.6", contents[1], "HI"]
    assert json.loads(contents[1]) == {"city": "Oslo", "country": "NO"}
    assert contents[3].startswith("Error: there is no tool named 'lookup'")


async def test_a_tool_without_a_docstring_has_no_description(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A function with neither docstring nor description is sent without one."""

    def ping() -> str:
        return "pong"

    server.enqueue_replies(ChatReply.tool_call("ping", {}, id="call-1"), ChatReply.text("Done."))
    runner = client.chat.completions.run_tools(model=MODEL, messages=HELLO, tools=[ping])
    await runner.until_done()
    assert server.requests[0].json()["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "ping",
                "parameters": {
                    "type": "object",
                    "properties": {},
                    "required": [],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert tool_results(server.requests[1].json()) == [("call-1", "pong")]


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


def test_a_decorated_function_can_still_be_called() -> None:
    """@function_tool keeps the function callable as it was."""
    assert to_fahrenheit(100) == 212


def test_a_tool_name_the_api_refuses_is_refused_at_once() -> None:
    """name= must follow the API's rule for function names."""
    with pytest.raises(InvalidArgumentError, match="1-64 letters"):
        FunctionTool.from_function(to_fahrenheit.function, name="to fahrenheit")


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
