"""``python -m llama_models.testing --stream-chunks N``: the benchmark's fixed streamed reply."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from llama_models.testing import FakeLlamaAPI
from llama_models.testing.__main__ import STREAM_CHUNK, _parse_args, stream_reply_middleware

MODEL = "Llama-3.3-70B-Instruct"
HEADERS = {"Authorization": "Bearer test-key", "Content-Type": "application/json"}
SSE = {**HEADERS, "Accept": "text/event-stream"}


def _body(**extra: Any) -> str:
    return json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], **extra})


async def _events(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    async with session.post(url, data=_body(stream=True), headers=SSE) as resp:
        assert resp.status == 200
        return [json.loads(line[6:]) async for line in resp.content if line.startswith(b"data: ")]


@pytest.mark.anyio
async def test_every_stream_gets_n_chunks_and_plain_calls_the_default() -> None:
    api = FakeLlamaAPI()
    api.app.middlewares.append(stream_reply_middleware(api, 7))
    async with api, aiohttp.ClientSession() as session:
        url = f"{api.base_url}/chat/completions"
        for _ in range(2):
            events = await _events(session, url)
            kinds = [event["event"]["event_type"] for event in events]
            assert kinds == ["start", *["progress"] * 7, "complete", "metrics"]
            assert {event["event"]["delta"]["text"] for event in events[1:-2]} == {STREAM_CHUNK}
        async with session.post(url, data=_body(), headers=HEADERS) as resp:
            answer = await resp.json()
        assert answer["completion_message"]["content"]["text"] == "You said: Hi"
        # A rejected stream leaves its reply queued; the next stream uses it, no second one.
        async with session.post(url, data=_body(stream=True), headers=HEADERS) as resp:
            assert resp.status == 400
        assert api.pending_replies == 1
        assert len(await _events(session, url)) == 10
        assert api.pending_replies == 0


def test_stream_chunks_must_be_positive() -> None:
    assert _parse_args(["--stream-chunks", "3"]).stream_chunks == 3
    assert _parse_args([]).stream_chunks is None
    with pytest.raises(SystemExit):
        _parse_args(["--stream-chunks", "0"])
