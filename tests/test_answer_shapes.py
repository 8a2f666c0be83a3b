"""Answers beyond the documented examples, over loopback HTTP: kept as sent, never rounded."""

from __future__ import annotations

import json

import attrs
import pytest

from llama_models import AsyncLlamaClient, InvalidArgumentError, LlamaClient, ModelOutputError, Tool
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault
from llama_models.types import FunctionDelta, StreamEvent, TextDelta, ToolCallDelta, Usage

pytestmark = pytest.mark.anyio

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
SSE = "text/event-stream"
EMPTY = {"type": "text", "text": ""}

# A reply from a server newer than this SDK: a new assistant role, and token counts
# that are not all whole numbers.
NEWER_MESSAGE = {
    "role": "assistant_v2",
    "content": {"type": "text", "text": "Hi there"},
    "stop_reason": "stop",
}
FRACTIONAL_METRICS = [
    {"metric": "num_completion_tokens", "value": 2.5, "unit": "tokens"},
    {"metric": "num_prompt_tokens", "value": 3, "unit": "tokens"},
    {"metric": "num_total_tokens", "value": 5.5, "unit": "tokens"},
]
FRACTIONAL_USAGE = Usage(prompt_tokens=3, completion_tokens=2.5, total_tokens=5.5)
NEWER_ROLE = Fault.respond(200, json={"id": "c1", "completion_message": NEWER_MESSAGE})
FRACTIONAL_ANSWER = Fault.respond(
    200,
    json={
        "id": "c1",
        "completion_message": {**NEWER_MESSAGE, "role": "assistant"},
        "metrics": FRACTIONAL_METRICS,
    },
)


def sse(*events: object) -> str:
    return "".join(f"data: {json.dumps(event)}\n\n" for event in events)


def event(event_type: str, delta: object, **more: object) -> dict[str, object]:
    return {"id": "c1", "event": {"event_type": event_type, "delta": delta, **more}}


FRACTIONAL_STREAM = Fault.respond(
    200,
    body=sse(
        event("start", EMPTY),
        event("progress", {"type": "text", "text": "Hi there"}),
        event("complete", EMPTY, stop_reason="stop"),
        event("metrics", EMPTY, metrics=FRACTIONAL_METRICS),
    ),
    content_type=SSE,
)


async def test_a_reply_with_an_unknown_role_is_kept(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An assistant reply with a role newer than this SDK parses, and reports that role."""
    server.enqueue(NEWER_ROLE)
    completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.completion_message.role == "assistant_v2"
    assert (completion.text, completion.stop_reason) == ("Hi there", "stop")


async def test_a_reply_with_an_unknown_role_is_refused_when_sent_back(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Sent back, such a reply fails before sending, naming the field; evolved, it goes as is."""
    server.enqueue(NEWER_ROLE)
    reply = (await client.chat.completions.create(model=MODEL, messages=HELLO)).completion_message
    with pytest.raises(
        InvalidArgumentError, match=r"^messages\[1\]\.role must be one of .*, not 'assistant_v2'$"
    ):
        await client.chat.completions.create(model=MODEL, messages=[*HELLO, reply])
    assert len(server.requests) == 1
    await client.chat.completions.create(
        model=MODEL, messages=[*HELLO, attrs.evolve(reply, role="assistant")]
    )
    assert server.requests[-1].json()["messages"][1] == {**NEWER_MESSAGE, "role": "assistant"}


async def test_usage_keeps_fractional_token_counts(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """usage reports a fractional metric as sent and a whole one as an int."""
    server.enqueue(FRACTIONAL_ANSWER)
    completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.usage == FRACTIONAL_USAGE
    assert type(completion.usage.prompt_tokens) is int
    assert [metric.value for metric in completion.metrics] == [2.5, 3, 5.5]


async def test_a_streams_final_usage_keeps_fractional_token_counts(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A stream's metrics event and its final completion's usage keep fractions as sent."""
    server.enqueue(FRACTIONAL_STREAM)
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
        completion = await stream.final_completion()
    last = chunks[-1].event
    assert isinstance(last, StreamEvent)
    assert [metric.value for metric in last.metrics] == [2.5, 3, 5.5]
    assert completion.usage == FRACTIONAL_USAGE
    assert type(completion.usage.prompt_tokens) is int


def test_a_blocking_streams_final_usage_keeps_fractional_token_counts(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking stream's final completion keeps fractional token counts too."""
    threaded_server.enqueue(FRACTIONAL_STREAM)
    with sync_client.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as stream:
        assert stream.final_completion().usage == FRACTIONAL_USAGE


async def test_chunk_delta_needs_no_narrowing_of_the_event(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """chunk.delta is the event's delta, or None for an event type this SDK does not know."""
    call = {"type": "tool_call", "id": "call-1", "function": {"name": "get_weather"}}
    body = sse(
        event("start", EMPTY),
        event("progress", call),
        event("progress", {"type": "tool_call", "function": {"arguments": "{}"}}),
        event("reasoning", {"type": "text", "text": "hmm"}),
        event("complete", EMPTY, stop_reason="tool_calls"),
    )
    server.enqueue(Fault.respond(200, body=body, content_type=SSE))
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    async with stream:
        deltas = [chunk.delta async for chunk in stream]
    assert deltas == [
        TextDelta(""),
        ToolCallDelta(id="call-1", function=FunctionDelta(name="get_weather")),
        ToolCallDelta(function=FunctionDelta(arguments="{}")),
        None,
        TextDelta(""),
    ]


@pytest.mark.parametrize(
    ("arguments", "kind"),
    [
        ("[1, 2]", "an array"),
        ('"Paris"', "a string"),
        ("42", "a number"),
        ("4.2", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ],
)
async def test_tool_arguments_that_are_not_an_object_raise_a_clear_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI, arguments: str, kind: str
) -> None:
    """parse_arguments refuses valid JSON that is not an object, naming what it is."""
    server.enqueue_replies(ChatReply.tool_call("get_weather", arguments))
    completion = await client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[Tool(name="get_weather")]
    )
    with pytest.raises(
        ModelOutputError,
        match=f"^the arguments of tool call 'get_weather' are not a JSON object but {kind}: ",
    ) as caught:
        completion.tool_calls[0].parse_arguments()
    assert caught.value.text == arguments
