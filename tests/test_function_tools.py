"""run_tools' tools: built with function_tool or FunctionTool.from_function; bad arguments refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tool_support import HELLO, MODEL, Place, tool_results

from llama_models import (
    AsyncLlamaClient,
    FunctionTool,
    InvalidArgumentError,
    LlamaClient,
    Tool,
    function_tool,
)
from llama_models.testing import ChatReply, FakeLlamaAPI

pytestmark = pytest.mark.anyio


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


def test_a_decorated_function_can_still_be_called() -> None:
    """@function_tool keeps the function callable as it was."""
    assert to_fahrenheit(100) == 212


def test_a_tool_name_the_api_refuses_is_refused_at_once() -> None:
    """name= must follow the API's rule for function names."""
    with pytest.raises(InvalidArgumentError, match="1-64 letters"):
        FunctionTool.from_function(to_fahrenheit.function, name="to fahrenheit")


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
