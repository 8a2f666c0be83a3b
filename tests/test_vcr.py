"""vcrpy records and replays both clients' calls with its default settings, and never the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

from llama_models import AsyncLlamaClient, LlamaClient
from llama_models.testing import FakeLlamaAPI

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
SECRET = "LLM|1234|never-in-a-cassette"


def record_then_replay_blocking(base_url: str, cassette: Path) -> list[object]:
    with vcr.use_cassette(str(cassette)), LlamaClient(api_key=SECRET, base_url=base_url) as client:
        stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        return [
            client.models.list().ids,
            client.chat.completions.create(model=MODEL, messages=HELLO).text,
            "".join(stream.text_deltas()),
        ]


async def record_then_replay_async(base_url: str, cassette: Path) -> list[object]:
    with vcr.use_cassette(str(cassette)):
        async with AsyncLlamaClient(api_key=SECRET, base_url=base_url) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
            return [
                (await client.models.list()).ids,
                (await client.chat.completions.create(model=MODEL, messages=HELLO)).text,
                (await stream.final_completion()).text,
            ]


EXPECTED = [
    [
        "Llama-3.3-70B-Instruct",
        "Llama-3.3-8B-Instruct",
        "Llama-4-Scout-17B-16E-Instruct-FP8",
        "Llama-4-Maverick-17B-128E-Instruct-FP8",
    ],
    "You said: Hello",
    "You said: Hello",
]


def test_the_blocking_client_records_and_replays(tmp_path: Path) -> None:
    """A cassette recorded from the blocking client replays with the server gone."""
    cassette = tmp_path / "blocking.yaml"
    with FakeLlamaAPI(api_key=SECRET) as server:
        base_url = server.base_url
        assert record_then_replay_blocking(base_url, cassette) == EXPECTED
        assert len(server.requests) == 3
    assert SECRET not in cassette.read_text()
    assert "LLM|" not in cassette.read_text()
    assert record_then_replay_blocking(base_url, cassette) == EXPECTED


@pytest.mark.anyio
async def test_the_async_client_records_and_replays(tmp_path: Path) -> None:
    """A cassette recorded from the async client replays with the server gone."""
    cassette = tmp_path / "async.yaml"
    async with FakeLlamaAPI(api_key=SECRET) as server:
        base_url = server.base_url
        assert await record_then_replay_async(base_url, cassette) == EXPECTED
        assert len(server.requests) == 3
    assert SECRET not in cassette.read_text()
    assert await record_then_replay_async(base_url, cassette) == EXPECTED


@pytest.mark.anyio
async def test_filtering_the_header_as_the_guide_shows_changes_nothing(
    server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """filter_headers=["authorization"] records the same calls."""
    cassette = tmp_path / "filtered.yaml"
    with vcr.use_cassette(str(cassette), filter_headers=["authorization"]):
        async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
            assert len(await client.models.list()) == 4
    assert "/v1/models" in cassette.read_text()
