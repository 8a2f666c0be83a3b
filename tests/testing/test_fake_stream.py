"""Specification of the fake server's streamed chat completions and the faults that break them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
import pytest

from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

from .chat_support import STREAM_HEADERS, accumulate, chat, complete, events, post, stream

#: A stop that had to wait for aiohttp's shutdown timeout would take 2 s or more.
PROMPT = 1.0
SHORT = aiohttp.ClientTimeout(sock_read=0.3)

# llama-api.md §8.6 with the request "Hello, world!" (2 words) and a 5-word answer.
TEXT_STREAM = (
    b'data: {"id":"ID","event":{"event_type":"start","delta":{"type":"text","text":""}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"progress","delta":{"type":"text","text":"Hello"}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"progress","delta":{"type":"text","text":"! How can I help?"}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"complete","delta":{"type":"text","text":""},"stop_reason":"stop"}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"metrics","delta":{"type":"text","text":""},"metrics":'
    b'[{"metric":"num_completion_tokens","value":5,"unit":"tokens"},'
    b'{"metric":"num_prompt_tokens","value":2,"unit":"tokens"},'
    b'{"metric":"num_total_tokens","value":7,"unit":"tokens"}]}}\n\n'
)
# §8.7 with a fixed tool-call id; the arguments are 2 words, the name 1.
TOOL_STREAM = (
    b'data: {"id":"ID","event":{"event_type":"start","delta":{"type":"text","text":""}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"progress","delta":{"type":"tool_call",'
    b'"id":"85870f14-0c26-46e4-9b68-a783ee865bbd","function":{"name":"get_weather","arguments":""}}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"progress","delta":{"type":"tool_call",'
    b'"function":{"arguments":"{\\"location\\":"}}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"progress","delta":{"type":"tool_call",'
    b'"function":{"arguments":"\\"Menlo Park\\"}"}}}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"complete","delta":{"type":"text","text":""},"stop_reason":"tool_calls"}}\n\n'
    b'data: {"id":"ID","event":{"event_type":"metrics","delta":{"type":"text","text":""},"metrics":'
    b'[{"metric":"num_completion_tokens","value":3,"unit":"tokens"},'
    b'{"metric":"num_prompt_tokens","value":2,"unit":"tokens"},'
    b'{"metric":"num_total_tokens","value":5,"unit":"tokens"}]}}\n\n'
)


def _with_id(template: bytes, raw: bytes) -> bytes:
    completion_id = events(raw)[0]["id"]
    return template.replace(b'"id":"ID"', f'"id":"{completion_id}"'.encode())


def _types(chunks: list[dict[str, Any]]) -> list[str]:
    return [chunk["event"]["event_type"] for chunk in chunks]


async def _raw_stream(api: FakeLlamaAPI, body: dict[str, Any]) -> bytes:
    """Send a streaming request over a bare socket and return every byte until the server hangs up."""
    payload = json.dumps({**body, "stream": True}).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{api.port}\r\n"
        "Authorization: Bearer test-key\r\nAccept: text/event-stream\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    try:
        writer.write(head.encode() + payload)
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def _dechunk(raw: bytes) -> tuple[bytes, bool]:
    """Decode a chunked HTTP body; also say whether the terminating chunk arrived."""
    _, _, rest = raw.partition(b"\r\n\r\n")
    body = b""
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return body, True
        body, rest = body + rest[:size], rest[size + 2 :]
    return body, False


# -- the stream -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_text_stream_is_byte_exact(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A text answer streams as compact data events: start, progress, complete, metrics (§8.6)."""
    api.enqueue_replies(
        ChatReply.text("Hello! How can I help?", chunks=["Hello", "! How can I help?"])
    )
    url = f"{api.base_url}/chat/completions"
    async with session.post(url, json=chat(stream=True), headers=STREAM_HEADERS) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Connection"] == "close"
        assert response.headers["x-ratelimit-limit-requests"] == "3000"
        raw = await response.read()
    assert raw == _with_id(TEXT_STREAM, raw)
    assert b"[DONE]" not in raw


@pytest.mark.anyio
async def test_tool_call_stream_is_byte_exact(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A tool call opens with its id and name, then streams argument fragments only (§8.7)."""
    api.enqueue_replies(
        ChatReply.tool_call(
            "get_weather",
            {"location": "Menlo Park"},
            id="85870f14-0c26-46e4-9b68-a783ee865bbd",
            chunks=['{"location":', '"Menlo Park"}'],
        )
    )
    raw = await stream(session, api.base_url, chat())
    assert raw == _with_id(TOOL_STREAM, raw)


@pytest.mark.anyio
async def test_every_chunk_carries_the_same_id_and_a_delta(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Every event has the completion id and a delta; start, complete and metrics empty text."""
    chunks = events(await stream(session, api.base_url, chat()))
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert _types(chunks) == ["start"] + ["progress"] * 4 + ["complete", "metrics"]
    for chunk in (chunks[0], chunks[-2], chunks[-1]):
        assert chunk["event"]["delta"] == {"type": "text", "text": ""}
    assert [chunk["event"]["delta"]["text"] for chunk in chunks[1:-2]] == [
        "You ",
        "said: ",
        "Hello, ",
        "world!",
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "reply",
    [
        None,
        ChatReply.text("  Leading spaces,  double  spaces and a tail  "),
        ChatReply.text("Grüße aus Köln — 🦙 llama", chunk_size=3),
        ChatReply.text("", stop_reason="length"),
        ChatReply.json({"address": {"street": "1 Hacker Way", "zip": "94025"}}),
        ChatReply.tool_call("broken", '{"location": ', chunk_size=4),
        ChatReply.tool_calls(
            ("get_weather", {"location": "Menlo Park"}),
            ("no_arguments", ""),
            ("get_time", {"zone": "PST"}),
            chunks=['{"location":"Menlo', ' Park"}', "", '{"zone":', '"PST"}'],
        ),
    ],
    ids=["default", "spaces", "unicode", "empty", "json", "invalid-arguments", "three-calls"],
)
async def test_stream_adds_up_to_the_non_streaming_answer(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, reply: ChatReply | None
) -> None:
    """Accumulated deltas equal the non-streaming completion message; the metrics match too."""
    if reply is not None:
        api.enqueue_replies(reply, reply)
    whole = await complete(session, api.base_url, chat())
    chunks = events(await stream(session, api.base_url, chat()))
    assert accumulate(chunks) == whole["completion_message"]
    assert chunks[-1]["event"]["metrics"] == whole["metrics"]


@pytest.mark.anyio
async def test_chunk_size_sets_the_fragment_length(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """chunk_size splits the text into fragments of that many characters, the last shorter."""
    api.enqueue_replies(ChatReply.text("abcdefg", chunk_size=3))
    chunks = events(await stream(session, api.base_url, chat()))
    assert [chunk["event"]["delta"]["text"] for chunk in chunks[1:-2]] == ["abc", "def", "g"]


@pytest.mark.anyio
async def test_keepalive_comment_precedes_every_event(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """With keepalive, a ": keep-alive" comment and a blank line come before each event."""
    api.enqueue_replies(ChatReply.text("a b", keepalive=True))
    raw = await stream(session, api.base_url, chat())
    blocks = raw.split(b"\n\n")
    assert blocks[-1] == b""
    assert blocks[0:-1:2] == [b": keep-alive"] * 5
    assert _types(events(raw)) == ["start", "progress", "progress", "complete", "metrics"]


@pytest.mark.anyio
async def test_event_delay_paces_the_stream(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """event_delay writes each event on its own, that many seconds after the one before."""
    api.enqueue_replies(ChatReply.text("a b c", event_delay=0.02))
    url = f"{api.base_url}/chat/completions"
    started = time.monotonic()
    http_chunks = 0
    async with session.post(url, json=chat(stream=True), headers=STREAM_HEADERS) as response:
        async for _, end_of_http_chunk in response.content.iter_chunks():
            http_chunks += end_of_http_chunk
    assert time.monotonic() - started >= 5 * 0.02
    assert http_chunks == 6


@pytest.mark.anyio
async def test_a_huge_stream_is_written_in_batches(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A 20,000-fragment reply streams completely, in a few large writes instead of one per event."""
    fragments = [f"w{n} " for n in range(20_000)]
    api.enqueue_replies(ChatReply.text("".join(fragments), chunks=fragments))
    url = f"{api.base_url}/chat/completions"
    raw = b""
    http_chunks = 0
    async with session.post(url, json=chat(stream=True), headers=STREAM_HEADERS) as response:
        async for data, end_of_http_chunk in response.content.iter_chunks():
            raw += data
            http_chunks += end_of_http_chunk
    chunks = events(raw)
    assert _types(chunks).count("progress") == 20_000
    assert _types(chunks)[-2:] == ["complete", "metrics"]
    assert "".join(chunk["event"]["delta"]["text"] for chunk in chunks) == "".join(fragments)
    assert http_chunks <= len(raw) // (64 * 1024) + 2


# -- stream faults --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_stream_error_sends_a_bare_json_line(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.stream_error sends `after` events, then the error body without "data:" (§8.8)."""
    api.enqueue(
        Fault.stream_error(),
        Fault.stream_error(2, status=503, title="Overloaded", detail="Try later"),
    )
    raw = await stream(session, api.base_url, chat())
    *head, error, tail = raw.split(b"\n\n")
    assert _types(events(b"\n\n".join(head) + b"\n\n")) == ["start"]
    assert (error, tail) == (
        b'{"title":"Internal server error","detail":"Generation failed","status":500}',
        b"",
    )
    raw = await stream(session, api.base_url, chat())
    assert raw.endswith(b'\n\n{"title":"Overloaded","detail":"Try later","status":503}\n\n')
    assert raw.count(b"data: ") == 2


@pytest.mark.anyio
async def test_stream_fault_after_more_events_than_the_stream_has(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A stream fault whose `after` exceeds the stream strikes after the last event."""
    api.enqueue(Fault.stream_error(100), Fault.stream_error(0))
    raw = await stream(session, api.base_url, chat())
    assert raw.count(b"data: ") == 7
    assert raw.endswith(b'"status":500}\n\n')
    raw = await stream(session, api.base_url, chat())
    assert raw.startswith(b'{"title":')


@pytest.mark.anyio
async def test_stream_cut_hangs_up_in_the_middle_of_an_event(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.stream_cut sends half of the next event's line, then closes without ending the body."""
    api.enqueue(Fault.stream_cut(2))
    body, terminated = _dechunk(await _raw_stream(api, chat()))
    *whole, partial = body.split(b"\n\n")
    assert _types(events(b"\n\n".join(whole) + b"\n\n")) == ["start", "progress"]
    assert partial.startswith(b'data: {"id":')
    assert b"\n" not in partial
    assert not terminated
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial[len(b"data: ") :])
    api.enqueue(Fault.stream_cut())
    url = f"{api.base_url}/chat/completions"
    with pytest.raises(aiohttp.ClientPayloadError):
        await post(session, url, chat(stream=True), STREAM_HEADERS)


@pytest.mark.anyio
async def test_stream_end_early_ends_cleanly_without_the_final_events(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.stream_end_early ends a well-formed response before complete and metrics."""
    api.enqueue(Fault.stream_end_early(3))
    body, terminated = _dechunk(await _raw_stream(api, chat()))
    assert terminated
    assert _types(events(body)) == ["start", "progress", "progress"]
    api.enqueue(Fault.stream_end_early(5))
    raw = await stream(session, api.base_url, chat())
    assert _types(events(raw)) == ["start"] + ["progress"] * 4


@pytest.mark.anyio
async def test_stream_stall_goes_silent_until_the_server_stops(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.stream_stall sends `after` events, then nothing; stopping the server cuts it off."""
    api.enqueue(Fault.stream_stall())
    url = f"{api.base_url}/chat/completions"
    async with session.post(
        url, json=chat(stream=True), headers=STREAM_HEADERS, timeout=SHORT
    ) as response:
        assert (await response.content.readuntil(b"\n\n")).startswith(b"data: ")
        with pytest.raises(asyncio.TimeoutError):
            await response.content.readuntil(b"\n\n")
    started = time.monotonic()
    await api.stop()
    assert time.monotonic() - started < PROMPT


@pytest.mark.anyio
async def test_stream_stall_can_send_keepalives(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """With keepalive_interval the stall sends only comments; a client hanging up is no error."""
    api.enqueue(Fault.stream_stall(2, keepalive_interval=0.01))
    url = f"{api.base_url}/chat/completions"
    with caplog.at_level(logging.ERROR):
        async with session.post(url, json=chat(stream=True), headers=STREAM_HEADERS) as response:
            first = [await response.content.readuntil(b"\n\n") for _ in range(2)]
            rest = [await response.content.readuntil(b"\n\n") for _ in range(3)]
        started = time.monotonic()
        await api.stop()
    assert time.monotonic() - started < PROMPT
    assert [block[:6] for block in first] == [b"data: "] * 2
    assert rest == [b": keep-alive\n\n"] * 3
    assert caplog.records == []


@pytest.mark.anyio
async def test_stopping_the_server_cuts_a_paced_stream(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A long event_delay does not hold up stop(); the client sees the body cut off."""
    api.enqueue_replies(ChatReply.text("a b", event_delay=3600))
    url = f"{api.base_url}/chat/completions"
    async with session.post(url, json=chat(stream=True), headers=STREAM_HEADERS) as response:
        assert (await response.content.readuntil(b"\n\n")).startswith(b"data: ")
        started = time.monotonic()
        await api.stop()
        assert time.monotonic() - started < PROMPT
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


@pytest.mark.anyio
async def test_stream_fault_still_needs_a_valid_request(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A stream fault drawn by a request that fails validation is used up by the 400."""
    api.enqueue(Fault.stream_error())
    url = f"{api.base_url}/chat/completions"
    status, _, _ = await post(session, url, chat(top_k=-1, stream=True), STREAM_HEADERS)
    assert (status, api.pending_faults) == (400, 0)
    assert _types(events(await stream(session, api.base_url, chat())))[-1] == "metrics"
