"""orjson or the standard library: the same answers, over HTTP from the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from script_support import run_script

from llama_models import AsyncLlamaClient, ChatCompletionChunk
from llama_models._converter import Codec, make_converter
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Héllo, wörld"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather"}}]
REPLIES = [
    ChatReply.text("Hello there, wörld ✓", chunk_size=3),
    ChatReply.tool_calls(("get_weather", {"location": "Menlo Park"}), ("get_time", "{}")),
    ChatReply.json({"street": "1 Hacker Way", "zip": 94025, "tags": [None, 1.5, True]}),
]


async def everything(server: FakeLlamaAPI, codec: Codec) -> list[Any]:
    """Each kind of answer, decoded with *codec*, as objects and as dicts."""
    seen: list[Any] = []
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        converter=make_converter(strict=True, codec=codec),
    ) as client:
        models = await client.models.list()
        seen += [models, models.to_dict(), await client.models.retrieve(MODEL)]
        for reply in REPLIES:
            server.enqueue_replies(reply, reply)
            completion = await client.chat.completions.create(
                model=MODEL, messages=HELLO, tools=TOOLS
            )
            stream = await client.chat.completions.create(
                model=MODEL, messages=HELLO, tools=TOOLS, stream=True
            )
            chunks = await collect(stream)
            seen += [completion, completion.to_dict(), chunks, [c.to_dict() for c in chunks]]
            seen.append(await stream.final_completion())
        moderation = await client.moderations.create(messages=HELLO)
        seen += [moderation, moderation.to_dict()]
        upload = await client.uploads.create(
            bytes=5, filename="a.txt", mime_type="text/plain", purpose="attachment"
        )
        seen += [upload.to_dict(), (await client.uploads.get(upload.id)).to_dict()]
    return [scrub(item) for item in seen]


async def collect(stream: AsyncIterator[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
    return [chunk async for chunk in stream]


def scrub(value: Any) -> Any:
    """Ids the fake server makes up anew for each answer, blanked out."""
    if isinstance(value, dict):
        return {k: "<id>" if k in ("id", "upload_id") else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if hasattr(value, "to_dict"):  # an object: its class, and what it holds
        return (type(value).__name__, scrub(value.to_dict()))
    return value


@pytest.mark.anyio
async def test_orjson_and_the_standard_library_give_the_same_answers(
    server: FakeLlamaAPI,
) -> None:
    """Every kind of answer structures to equal objects and dicts with either codec."""
    with_json = await everything(server, "json")
    with_orjson = await everything(server, "orjson")
    assert len(with_json) == len(with_orjson)
    for index, (a, b) in enumerate(zip(with_json, with_orjson, strict=True)):
        assert a == b, index


@pytest.mark.anyio
@pytest.mark.parametrize("codec", ["json", "orjson"])
async def test_a_stream_event_that_is_not_json_is_named(server: FakeLlamaAPI, codec: Codec) -> None:
    """A broken event fails the stream with a typed error, with either codec."""
    from llama_models import APIResponseValidationError

    server.enqueue(
        Fault.respond(200, body=b'data: {"event": \n\n', content_type="text/event-stream")
    )
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, converter=make_converter(codec=codec)
    ) as client:
        stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        with pytest.raises(APIResponseValidationError, match="event 1 is not valid JSON"):
            await collect(stream)


def test_without_orjson_the_standard_library_does_everything(threaded_server: FakeLlamaAPI) -> None:
    """With orjson not installed, the default converter and a json one work, orjson is refused."""
    result = run_script(
        """
        import sys
        sys.modules["orjson"] = None  # as if it were not installed
        from llama_models import LlamaClient, make_converter
        with LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
            print(len(client.models.list()))
            stream = client.chat.completions.create(
                model="Llama-3.3-70B-Instruct",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
            )
            print(stream.final_completion().text)
        with LlamaClient(
            api_key=sys.argv[1], base_url=sys.argv[2], converter=make_converter(codec="json")
        ) as client:
            print(client.models.list().to_json()[:10])
        try:
            make_converter(codec="orjson")
        except ImportError as exc:
            print(type(exc).__name__, "[fast]" in str(exc))
        """,
        threaded_server,
    )
    assert result.stdout.split("\n") == ["4", "You said: Hi", '{"data": [', "ImportError True", ""]
    assert result.returncode == 0, result.stderr
