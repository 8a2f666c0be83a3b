"""Streamed chat completions on the blocking client: same chunks, batched across threads."""

from __future__ import annotations

import gc
import signal
import sys
import textwrap
from typing import Any

import attrs
import pytest
from script_support import start_script

from llama_models import (
    APIStreamError,
    APITimeoutError,
    ChatCompletionChunk,
    ChatCompletionStream,
    LlamaClient,
    StreamInterruptedError,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault
from llama_models.types import UnknownEvent

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]


def open_stream(client: LlamaClient, **options: Any) -> ChatCompletionStream:
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True, **options)
    assert isinstance(stream, ChatCompletionStream)
    return stream


def test_chunks_text_and_final_completion(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking stream yields typed chunks and accumulates like the plain call."""
    reply = ChatReply.text("Hello! How can I help?")
    threaded_server.enqueue_replies(reply, reply, reply)
    plain = sync_client.chat.completions.create(model=MODEL, messages=HELLO)
    with open_stream(sync_client) as stream:
        chunks = list(stream)
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == plain.text
    assert stream.closed
    assert stream.status_code == 200
    assert stream.retries == 0
    assert stream.rate_limit is not None
    assert stream.request_id is None
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert "ChatCompletionStream" in repr(stream)
    streamed = open_stream(sync_client).final_completion()
    assert attrs.evolve(streamed, id=plain.id) == plain
    assert list(open_stream(sync_client).text_deltas()) == ["You ", "said: ", "Hello"]


def test_chunks_cross_the_thread_boundary_in_batches(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """A long stream takes far fewer thread hand-offs than it has chunks."""
    threaded_server.enqueue_replies(ChatReply.text("x" * 2000, chunk_size=1))
    stream = open_stream(sync_client)
    inner = stream._inner
    hops = 0
    next_batch = inner._next_batch

    async def counted() -> list[ChatCompletionChunk]:
        nonlocal hops
        hops += 1
        return await next_batch()

    inner._next_batch = counted  # type: ignore[method-assign]
    assert sum(1 for _ in stream) == 2003
    assert hops < 2003 / 10


def test_leaving_a_loop_early_closes_the_stream(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """``break`` closes the connection; the next call runs on a new one."""
    threaded_server.enqueue(Fault.stream_stall(after=3))
    stream = open_stream(sync_client)
    for chunk in stream:
        assert chunk.event.event_type == "start"
        break
    assert len(sync_client.models.list()) == 4  # runs after the close on the client's loop
    assert stream.closed
    assert list(stream) == []
    stream_request, list_request = threaded_server.requests
    assert list_request.connection_id != stream_request.connection_id


def test_text_deltas_and_with_blocks_close_early_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """Leaving text_deltas early, or a ``with`` block, closes the stream."""
    threaded_server.enqueue(Fault.stream_stall(after=3), Fault.stream_stall(after=3))
    stream = open_stream(sync_client)
    for text in stream.text_deltas():
        assert text == "You "
        break
    with open_stream(sync_client) as other:
        next(other)
    assert other.closed
    other.close()  # harmless when already closed
    sync_client.models.list()
    assert stream.closed


def test_an_abandoned_stream_is_closed_when_collected(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """Dropping an unread stream closes it quietly; the client keeps working."""
    threaded_server.enqueue(Fault.stream_stall(after=1))
    open_stream(sync_client)
    gc.collect()
    assert len(sync_client.models.list()) == 4


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (Fault.stream_error(after=2), APIStreamError, "Generation failed"),
        (Fault.stream_cut(after=2), StreamInterruptedError, "the connection failed"),
        (Fault.stream_end_early(after=2), StreamInterruptedError, "without its 'complete' event"),
    ],
    ids=["error-line", "cut", "ended-early"],
)
def test_stream_failures_raise_typed_errors(
    sync_client: LlamaClient,
    threaded_server: FakeLlamaAPI,
    fault: Fault,
    error: type[Exception],
    message: str,
) -> None:
    """Mid-stream errors, cuts and early ends raise the same typed errors as async."""
    threaded_server.enqueue(fault)
    stream = open_stream(sync_client)
    with pytest.raises(error, match=message):
        for _ in stream:
            pass
    assert stream.closed
    assert len(threaded_server.requests) == 1


def test_idle_timeout(threaded_server: FakeLlamaAPI) -> None:
    """A stream that only sends keep-alives times out on the blocking client too."""
    threaded_server.enqueue(Fault.stream_stall(after=1, keepalive_interval=0.02))
    with (
        LlamaClient(
            api_key=threaded_server.api_key, base_url=threaded_server.base_url, idle_timeout=0.3
        ) as client,
        pytest.raises(APITimeoutError, match="idle_timeout"),
    ):
        open_stream(client).final_completion()


def test_stream_timeout_and_unknown_events(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """stream_timeout bounds a blocking stream; unknown event types pass through."""
    threaded_server.enqueue_replies(ChatReply.text("word " * 100, event_delay=0.02))
    with pytest.raises(APITimeoutError, match="stream_timeout"):
        open_stream(sync_client, stream_timeout=0.3).final_completion()
    body = (
        'data: {"event": {"event_type": "start", "delta": {"type": "text", "text": ""}}}\n\n'
        'data: {"event": {"event_type": "thinking", "delta": {"type": "text", "text": "?"}}}\n\n'
        'data: {"event": {"event_type": "complete", "delta": {"type": "text", "text": "ok"},'
        ' "stop_reason": "stop"}}\n\n'
    )
    threaded_server.enqueue(Fault.respond(200, body=body, content_type="text/event-stream"))
    chunks = list(open_stream(sync_client))
    assert isinstance(chunks[1].event, UnknownEvent)
    assert [chunk.text for chunk in chunks] == ["", "", "ok"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_while_streaming_closes_the_stream(threaded_server: FakeLlamaAPI) -> None:
    """Ctrl-C while waiting for the next chunk closes the stream; the client stays usable."""
    threaded_server.enqueue(Fault.stream_stall(after=2))
    script = textwrap.dedent(
        """
        import sys
        from llama_models import LlamaClient
        with LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
            stream = client.chat.completions.create(
                model="Llama-3.3-70B-Instruct",
                messages=[{"role": "user", "content": "Hello"}],
                stream=True,
            )
            try:
                for chunk in stream:
                    print(chunk.event.event_type, flush=True)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            # Closing runs on the client's loop, so it is done before the next call.
            print(len(client.models.list()), stream.closed, flush=True)
        """
    )
    with start_script(script, threaded_server) as proc:
        assert proc.stdout is not None
        assert [proc.stdout.readline(), proc.stdout.readline()] == ["start\n", "progress\n"]
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert stdout.split("\n")[:2] == ["interrupted", "4 True"], stderr
    assert proc.returncode == 0
    assert stderr == ""
