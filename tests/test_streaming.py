"""Streamed chat completions over loopback HTTP: chunks, helpers, closing, failures, time limits."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

import aiohttp
import attrs
import pytest

from llama_models import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    AsyncChatCompletionStream,
    AsyncLlamaClient,
    BadRequestError,
    ChatCompletionChunk,
    ClientStateError,
    JsonSchemaFormat,
    StreamInterruptedError,
    Tool,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault
from llama_models.types import StreamEvent, TextDelta, ToolCallDelta, UnknownDelta, UnknownEvent

pytestmark = pytest.mark.anyio

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
TOOLS = [Tool(name="get_weather"), Tool(name="get_time")]
SSE = "text/event-stream"


async def open_stream(client: AsyncLlamaClient, **options: object) -> AsyncChatCompletionStream:
    return await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True, **options)  # type: ignore[call-overload, no-any-return]


def sse(*events: object) -> str:
    return "".join(f"data: {json.dumps(event)}\n\n" for event in events)


def event(event_type: str, delta: object, **more: object) -> dict[str, object]:
    return {"id": "c1", "event": {"event_type": event_type, "delta": delta, **more}}


EMPTY = {"type": "text", "text": ""}


async def test_a_stream_yields_typed_chunks_in_order(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Chunks follow the documented sequence; the request asks for an event stream."""
    server.enqueue_replies(ChatReply.text("Hello! How can I help?"))
    stream = await open_stream(client)
    chunks = [chunk async for chunk in stream]
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    types = [chunk.event.event_type for chunk in chunks]
    assert types == ["start", *["progress"] * 5, "complete", "metrics"]
    assert "".join(chunk.text for chunk in chunks) == "Hello! How can I help?"
    assert isinstance(chunks[1].event, StreamEvent)
    assert isinstance(chunks[1].event.delta, TextDelta)
    assert chunks[-2].event.stop_reason == "stop"  # type: ignore[union-attr]
    assert [m.metric for m in chunks[-1].event.metrics] == [  # type: ignore[union-attr]
        "num_completion_tokens",
        "num_prompt_tokens",
        "num_total_tokens",
    ]
    assert len({chunk.id for chunk in chunks}) == 1
    assert stream.closed
    assert stream.status_code == 200
    assert stream.headers["Content-Type"].startswith(SSE)
    assert stream.rate_limit is not None
    assert stream.retries == 0
    assert stream.request_id is None
    assert "finished, 8 events" in repr(stream)
    (request,) = server.requests
    assert request.headers["Accept"] == SSE
    assert request.json() == {"model": MODEL, "messages": HELLO, "stream": True}


@pytest.mark.parametrize(
    "reply",
    [
        ChatReply.text("The quick brown fox jumps over the lazy dog.", chunk_size=3),
        ChatReply.tool_calls(
            ("get_weather", {"location": "Menlo Park"}), ("get_time", {"zone": "PST"}), chunk_size=4
        ),
        ChatReply.json({"street": "1 Hacker Way", "zip": "94025"}, chunk_size=5),
        ChatReply.text("cut short", stop_reason="length"),
    ],
    ids=["text", "two-tool-calls", "structured", "length"],
)
async def test_a_stream_accumulates_into_the_non_streaming_completion(
    client: AsyncLlamaClient, server: FakeLlamaAPI, reply: ChatReply
) -> None:
    """final_completion equals the plain call's ChatCompletion for the same reply."""
    server.enqueue_replies(reply, reply)
    plain = await client.chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    stream = await open_stream(client, tools=TOOLS)
    async with stream:
        first = await stream.__anext__()  # what was iterated already counts too
        assert first.event.event_type == "start"
        streamed = await stream.final_completion()
    assert streamed.id
    assert plain.id
    assert attrs.evolve(streamed, id=plain.id) == plain
    assert await stream.final_completion() == streamed  # asking again is free


async def test_tool_call_deltas_carry_id_and_name_first(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The first piece of a call names it; later pieces only add arguments."""
    server.enqueue_replies(
        ChatReply.tool_call("get_weather", {"location": "Paris"}, id="call-9", chunk_size=4)
    )
    stream = await open_stream(client, tools=TOOLS)
    deltas = [c.event.delta async for c in stream if isinstance(c.event.delta, ToolCallDelta)]  # type: ignore[union-attr]
    assert (deltas[0].id, deltas[0].function.name) == ("call-9", "get_weather")
    assert all(d.id is None and d.function.name is None for d in deltas[1:])
    assert "".join(d.function.arguments or "" for d in deltas) == '{"location":"Paris"}'


async def test_text_deltas_yield_only_text(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """text_deltas skips empty and tool deltas and still feeds final_completion."""
    server.enqueue_replies(ChatReply.text("one two three"))
    stream = await open_stream(client)
    assert [text async for text in stream.text_deltas()] == ["one ", "two ", "three"]
    assert (await stream.final_completion()).text == "one two three"


async def test_unknown_event_and_delta_types_pass_through(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A newer server's event and delta types arrive as Unknown values, not failures."""
    body = sse(
        event("start", EMPTY),
        event("reasoning", {"type": "text", "text": "hmm"}, budget=3),
        event("progress", {"type": "reasoning", "reasoning": "think", "answer": ""}),
        event("progress", {"type": "text", "text": "Hi"}),
        event("complete", EMPTY, stop_reason="stop"),
    )
    server.enqueue(Fault.respond(200, body=body, content_type=SSE))
    stream = await open_stream(client)
    chunks = [chunk async for chunk in stream]
    unknown_event = chunks[1].event
    assert isinstance(unknown_event, UnknownEvent)
    assert (unknown_event.event_type, unknown_event.data["budget"]) == ("reasoning", 3)
    delta = chunks[2].event.delta  # type: ignore[union-attr]
    assert isinstance(delta, UnknownDelta)
    assert delta.type == "reasoning"
    assert delta.data["reasoning"] == "think"
    assert chunks[1].text == chunks[2].text == ""
    assert (await stream.final_completion()).text == "Hi"


async def connector_of_one() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))


@pytest.fixture
async def one_connection() -> AsyncIterator[aiohttp.ClientSession]:
    """A session with a single connection: a leaked one would block the next request."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        yield session


async def test_leaving_a_loop_early_closes_the_connection(
    server: FakeLlamaAPI, one_connection: aiohttp.ClientSession
) -> None:
    """``break`` drops the stream's connection at once; the next call gets a fresh one."""
    server.enqueue(Fault.stream_stall(after=3))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, http_session=one_connection
    ) as client:
        stream = await open_stream(client)
        async for chunk in stream:
            assert chunk.event.event_type == "start"
            break
        assert stream.closed
        with pytest.raises(ClientStateError, match="closed before it completed"):
            await stream.final_completion()
        assert [chunk async for chunk in stream] == []
        await asyncio.wait_for(client.models.list(), timeout=5)
        stream_request, list_request = server.requests
        assert list_request.connection_id != stream_request.connection_id


async def test_text_deltas_close_on_break_too(
    server: FakeLlamaAPI, one_connection: aiohttp.ClientSession
) -> None:
    """Leaving a text_deltas loop early closes the stream as well."""
    server.enqueue_replies(ChatReply.text("a b c d", event_delay=0.01))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, http_session=one_connection
    ) as client:
        stream = await open_stream(client)
        async for text in stream.text_deltas():
            assert text == "a "
            break
        assert stream.closed
        await asyncio.wait_for(client.models.list(), timeout=5)


async def test_exhaustion_and_context_exit_release_the_connection(
    server: FakeLlamaAPI, one_connection: aiohttp.ClientSession
) -> None:
    """A stream read to its end, or left by ``async with``, frees its connection."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, http_session=one_connection
    ) as client:
        async for _ in await open_stream(client):
            pass
        server.enqueue(Fault.stream_stall(after=2))
        async with await open_stream(client) as stream:
            await stream.__anext__()
        assert stream.closed
        await stream.aclose()  # closing twice is harmless
        await asyncio.wait_for(client.models.list(), timeout=5)


async def test_a_dropped_stream_is_collected_without_warnings(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A stream that is never read and then dropped closes its response quietly."""
    server.enqueue(Fault.stream_stall(after=1))
    stream = await open_stream(client)
    del stream
    assert len(await client.models.list()) == 4


async def test_a_mid_stream_error_line_raises_after_the_chunks_before_it(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The server's bare JSON error line becomes APIStreamError with its status and body."""
    server.enqueue(Fault.stream_error(after=2, status=503, detail="Generation failed"))
    stream = await open_stream(client)
    seen = [await stream.__anext__(), await stream.__anext__()]
    with pytest.raises(APIStreamError, match="Generation failed") as caught:
        await stream.__anext__()
    assert [chunk.event.event_type for chunk in seen] == ["start", "progress"]
    error = caught.value
    assert (error.status_code, error.events_received) == (503, 2)
    assert error.body == {
        "title": "Internal server error",
        "detail": "Generation failed",
        "status": 503,
    }
    assert error.__cause__ is None or not isinstance(
        error.__cause__, (json.JSONDecodeError, aiohttp.ClientError)
    )
    assert stream.closed
    assert len(server.requests) == 1


async def test_a_named_error_event_raises_too(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An ``event: error`` block is a server error as well."""
    body = (
        sse(event("start", EMPTY)) + 'event: error\ndata: {"error": {"message": "overloaded"}}\n\n'
    )
    server.enqueue(Fault.respond(200, body=body, content_type=SSE))
    stream = await open_stream(client)
    with pytest.raises(APIStreamError, match="overloaded") as caught:
        await stream.final_completion()
    assert caught.value.status_code is None


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        # aiohttp drops bytes still buffered when the cut is seen: "after 0-2 events".
        (
            Fault.stream_cut(after=2),
            r"the connection failed \(ClientPayloadError.*after [012] events",
        ),
        (Fault.stream_end_early(after=3), "ended after 3 events without its 'complete' event"),
    ],
    ids=["cut-mid-event", "ended-early"],
)
async def test_cut_and_truncated_streams_raise_stream_interrupted(
    client: AsyncLlamaClient, server: FakeLlamaAPI, fault: Fault, message: str
) -> None:
    """A connection cut inside an event, or a stream with no complete event, is an error."""
    server.enqueue(fault)
    stream = await open_stream(client)
    with pytest.raises(StreamInterruptedError, match=message) as caught:
        async for _ in stream:
            pass
    assert isinstance(caught.value, APIConnectionError)
    assert stream.closed
    assert len(server.requests) == 1


async def test_a_stream_cut_inside_an_event_line_is_reported_as_such(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Half an event before a clean end of the body is a cut, not a short stream."""
    body = sse(event("start", EMPTY)) + 'data: {"id":"c1","ev'
    server.enqueue(Fault.respond(200, body=body, content_type=SSE))
    with pytest.raises(
        StreamInterruptedError, match=r"cut off in the middle of an event, after 1 event$"
    ):
        await (await open_stream(client)).final_completion()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'data: {"id": "c1", "event": {"event_type": "progress"}}\n\n',
            "event 1 is not a valid chunk",
        ),
        (b"data: \xff\xfe\n\n", "not valid UTF-8"),
    ],
    ids=["missing-delta", "not-utf8"],
)
async def test_malformed_events_raise_validation_errors(
    client: AsyncLlamaClient, server: FakeLlamaAPI, body: str | bytes, message: str
) -> None:
    """An event that is not a chunk is APIResponseValidationError, never a raw exception."""
    server.enqueue(Fault.respond(200, body=body, content_type=SSE))
    with pytest.raises(APIResponseValidationError, match=message):
        await (await open_stream(client)).final_completion()


async def test_an_endless_line_is_capped(server: FakeLlamaAPI) -> None:
    """A line that never ends cannot grow past max_response_bytes."""
    server.enqueue(Fault.respond(200, body="data: " + "x" * 5000, content_type=SSE))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_response_bytes=1024
    ) as client:
        with pytest.raises(APIResponseValidationError, match="longer than max_response_bytes"):
            await (await open_stream(client)).final_completion()


async def test_idle_timeout_ignores_keepalives(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Keep-alive comments do not count as events: a silent generation times out."""
    server.enqueue(Fault.stream_stall(after=2, keepalive_interval=0.02))
    stream = await open_stream(client, idle_timeout=0.3)
    with pytest.raises(
        APITimeoutError, match=r"no event for 0\.3 s \(idle_timeout\), after 2 events"
    ):
        async for _ in stream:
            pass
    assert stream.closed


async def test_idle_timeout_is_a_client_setting(server: FakeLlamaAPI) -> None:
    """The client's idle_timeout applies to every stream; math.inf per call lifts it."""
    server.enqueue(Fault.stream_stall(after=1))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, idle_timeout=0.2
    ) as client:
        with pytest.raises(APITimeoutError, match="idle_timeout"):
            await (await open_stream(client)).final_completion()
        server.enqueue_replies(ChatReply.text("slow but steady", event_delay=0.05))
        stream = await open_stream(client, idle_timeout=math.inf, stream_timeout=30)
        assert (await stream.final_completion()).text == "slow but steady"


async def test_slow_events_within_the_idle_timeout_are_fine(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The idle clock restarts with every event, so a long but lively stream finishes."""
    server.enqueue_replies(ChatReply.text("a b c d e f", event_delay=0.05, keepalive=True))
    stream = await open_stream(client, idle_timeout=0.5)
    assert (await stream.final_completion()).text == "a b c d e f"


async def test_stream_timeout_bounds_the_whole_stream(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """stream_timeout ends a stream that keeps sending but runs too long."""
    server.enqueue_replies(ChatReply.text("word " * 100, event_delay=0.02))
    stream = await open_stream(client, stream_timeout=0.3)
    with pytest.raises(APITimeoutError, match="did not finish within its stream_timeout"):
        await stream.final_completion()


async def test_stream_timeout_covers_the_opening_too(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A response that never starts is bounded by stream_timeout as well."""
    server.enqueue(Fault.stall())
    with pytest.raises(APITimeoutError, match="timed out at its stream_timeout"):
        await open_stream(client, stream_timeout=0.2)


async def test_read_timeout_applies_to_a_silent_stream(server: FakeLlamaAPI) -> None:
    """The client's read_timeout still catches a connection that goes fully silent."""
    server.enqueue(Fault.stream_stall(after=1))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, read_timeout=0.2
    ) as client:
        stream = await open_stream(client, idle_timeout=math.inf)
        with pytest.raises(APITimeoutError, match=r"read_timeout after 1 event$"):
            await stream.final_completion()


async def test_cancelling_a_reader_closes_the_stream(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A cancelled read closes the stream and lets the cancellation through."""
    server.enqueue(Fault.stream_stall(after=1))
    stream = await open_stream(client)
    reader = asyncio.ensure_future(stream.final_completion())
    await server.wait_for_requests_async(1)
    await asyncio.sleep(0)  # let the reader reach its wait
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert stream.closed


async def test_failures_before_the_stream_starts_are_retried(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 429 before any event is retried as usual, and a 307 redirect is followed."""
    server.enqueue(Fault.rate_limited(retry_after_ms="1"), Fault.redirect("/v1/chat/completions"))
    stream = await open_stream(client)
    assert stream.retries == 1
    assert (await stream.final_completion()).text == "You said: Hello"
    assert [r.json() for r in server.requests][-1]["stream"] is True
    assert [r.headers["Accept"] for r in server.requests] == [SSE] * 3


async def test_the_server_refuses_a_stream_without_the_event_stream_accept(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Overriding Accept shows why the SDK sends text/event-stream: the API answers 400."""
    with pytest.raises(BadRequestError, match="text/event-stream"):
        await open_stream(client, extra_headers={"Accept": "application/json"})


async def test_structured_output_streams_as_text(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A json_schema reply streams as text deltas that parse once joined."""
    schema = JsonSchemaFormat("Point", {"type": "object", "properties": {"x": {"type": "integer"}}})
    stream = await open_stream(client, response_format=schema)
    assert (await stream.final_completion()).parse_json() == {"x": 0}


async def test_a_connection_dropped_before_the_stream_starts_is_not_resent(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A POST the server may have acted on is never sent twice, stream or not."""
    server.enqueue(Fault.drop())
    with pytest.raises(APIConnectionError):
        await open_stream(client)
    assert len(server.requests) == 1


async def test_stream_errors_are_not_their_own_cause(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """The typed error raised for a truncated stream has no self-referencing cause."""
    server.enqueue(Fault.stream_end_early(after=1))
    with pytest.raises(StreamInterruptedError) as caught:
        await (await open_stream(client)).final_completion()
    assert caught.value.__cause__ is None
