"""Helpers for talking chat completions to the fake server with a plain aiohttp client."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

AUTH = {"Authorization": "Bearer test-key"}
STREAM_HEADERS = {**AUTH, "Accept": "text/event-stream"}
MODEL = "Llama-3.3-70B-Instruct"
USER = {"role": "user", "content": "What is the weather in Menlo Park?"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Retrieve the current temperature for a specified location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def image(number: int) -> dict[str, Any]:
    """An image content item pointing at a made-up URL."""
    return {"type": "image_url", "image_url": {"url": f"https://example.com/{number}.png"}}


def chat(*messages: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A chat completion request body; one user message saying hello by default."""
    return {
        "model": MODEL,
        "messages": list(messages) or [{"role": "user", "content": "Hello, world!"}],
        **fields,
    }


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: Any,
    headers: Mapping[str, str] = AUTH,
    **kwargs: Any,
) -> tuple[int, Mapping[str, str], bytes]:
    """POST `body` as JSON; return status, headers and the raw response body."""
    async with session.post(url, json=body, headers=headers, **kwargs) as response:
        return response.status, response.headers, await response.read()


async def complete(session: aiohttp.ClientSession, base_url: str, body: Any) -> dict[str, Any]:
    """Send a non-streaming chat completion that must succeed; return the decoded answer."""
    status, _, raw = await post(session, f"{base_url}/chat/completions", body)
    assert status == 200, raw
    answer: dict[str, Any] = json.loads(raw)
    return answer


async def stream(session: aiohttp.ClientSession, base_url: str, body: Any) -> bytes:
    """Send a streaming chat completion that must succeed; return the raw event stream."""
    url = f"{base_url}/chat/completions"
    status, headers, raw = await post(session, url, {**body, "stream": True}, STREAM_HEADERS)
    assert (status, headers["Content-Type"]) == (200, "text/event-stream"), raw
    return raw


def events(raw: bytes) -> list[dict[str, Any]]:
    """Decode a stream made only of ``data:`` events and keep-alive comments."""
    decoded = []
    for block in raw.split(b"\n\n"):
        if not block or block == b": keep-alive":
            continue
        assert block.startswith(b"data: "), block
        decoded.append(json.loads(block[len(b"data: ") :]))
    return decoded


def accumulate(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold stream chunks into a completion message, the way a client should (§3.3)."""
    text = ""
    calls: list[dict[str, Any]] = []
    stop_reason = None
    for chunk in chunks:
        event = chunk["event"]
        delta = event["delta"]
        if delta["type"] == "text":
            text += delta["text"]
        elif "id" in delta:
            calls.append({"id": delta["id"], "function": dict(delta["function"])})
        else:
            calls[-1]["function"]["arguments"] += delta["function"]["arguments"]
        stop_reason = event.get("stop_reason", stop_reason)
    return {
        "role": "assistant",
        "content": {"type": "text", "text": text},
        "stop_reason": stop_reason,
        "tool_calls": calls,
    }
