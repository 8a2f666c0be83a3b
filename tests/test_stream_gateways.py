"""Streams as proxies and gateways in front of the API may send them: ``[DONE]``, HTML pages."""

from __future__ import annotations

import pytest

from llama_models import (
    APIResponseValidationError,
    AsyncLlamaClient,
    LlamaClient,
    StreamInterruptedError,
)
from llama_models.testing import FakeLlamaAPI, Fault

SSE = "text/event-stream"
MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
EVENTS = (
    'data: {"id":"c1","event":{"event_type":"start","delta":{"type":"text","text":""}}}\n\n'
    'data: {"id":"c1","event":{"event_type":"progress","delta":{"type":"text","text":"Hi!"}}}\n\n'
    'data: {"id":"c1","event":{"event_type":"complete","delta":{"type":"text","text":""},'
    '"stop_reason":"stop"}}\n\n'
)
DONE = "data: [DONE]\n\n"
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "after", ["", "data: {not json}\n\n", ": keep-alive\n\n"], ids=["end", "junk", "comment"]
)
async def test_done_ends_a_stream_cleanly(
    client: AsyncLlamaClient, server: FakeLlamaAPI, after: str
) -> None:
    """``data: [DONE]`` after the complete event ends the stream; anything after it is ignored."""
    server.enqueue(Fault.respond(200, body=EVENTS + DONE + after, content_type=SSE))
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    completion = await stream.final_completion()
    assert (completion.text, completion.stop_reason) == ("Hi!", "stop")
    assert stream.closed
    assert len(await client.models.list()) == 4


@pytest.mark.anyio
async def test_done_before_the_complete_event_is_an_interruption(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A ``[DONE]`` before the complete event is reported as a stream cut short, after its chunks."""
    server.enqueue(Fault.respond(200, body=EVENTS.rsplit("data:", 1)[0] + DONE, content_type=SSE))
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    texts = stream.text_deltas()
    assert await texts.__anext__() == "Hi!"
    with pytest.raises(StreamInterruptedError, match=r"ended with \[DONE\] after 2 events"):
        await texts.__anext__()


def test_done_on_the_blocking_client(threaded_server: FakeLlamaAPI) -> None:
    """The blocking stream ends at ``[DONE]`` too."""
    threaded_server.enqueue(Fault.respond(200, body=EVENTS + DONE, content_type=SSE))
    with LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as client:
        stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        assert [chunk.event.event_type for chunk in stream] == ["start", "progress", "complete"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "named"),
    [("text/html", "'text/html'"), ("application/json", "'application/json'")],
)
async def test_a_stream_answered_with_something_else_names_what_came(
    client: AsyncLlamaClient, server: FakeLlamaAPI, content_type: str, named: str
) -> None:
    """A 200 that is not text/event-stream raises APIResponseValidationError naming its type."""
    body = HTML if content_type == "text/html" else '{"detail": "buffered by a proxy"}'
    server.enqueue(
        Fault.respond(
            200, body=body, content_type=content_type, headers={"x-request-id": "req-proxy"}
        )
    )
    with pytest.raises(APIResponseValidationError) as caught:
        await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    error = caught.value
    assert named in str(error)
    assert "not text/event-stream" in str(error)
    assert "cut off" not in str(error)
    assert (error.status_code, error.request_id) == (200, "req-proxy")
    assert len(server.requests) == 1  # not retried


def test_the_blocking_client_names_the_content_type_too(threaded_server: FakeLlamaAPI) -> None:
    """The blocking client raises the same error for an HTML answer to a stream request."""
    threaded_server.enqueue(Fault.respond(200, body=HTML, content_type="text/html"))
    with (
        LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as client,
        pytest.raises(APIResponseValidationError, match="'text/html'"),
    ):
        client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
