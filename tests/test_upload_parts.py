"""uploads.part takes any bytes-like object or a binary file object, on both clients."""

from __future__ import annotations

import array
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from upload_support import form_fields

from llama_models import AsyncLlamaClient, InvalidArgumentError, LlamaClient
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio

DECLARED: dict[str, Any] = {
    "bytes": 6,
    "filename": "a.jsonl",
    "mime_type": "application/jsonl",
    "purpose": "messages_finetune",
}

BYTES_LIKE: list[Callable[[], object]] = [
    lambda: bytearray(b"abcdef"),
    lambda: memoryview(b"xxabcdefxx")[2:8],
    lambda: array.array("B", b"abcdef"),
    lambda: io.BytesIO(b"abcdef"),
]


@pytest.mark.parametrize("make", BYTES_LIKE, ids=["bytearray", "memoryview", "array", "BytesIO"])
async def test_a_part_may_be_any_bytes_like_object_or_file(
    client: AsyncLlamaClient, server: FakeLlamaAPI, make: Callable[[], Any]
) -> None:
    """part() sends the bytes of a buffer, or of a binary file from its position, as they are."""
    upload = await client.uploads.create(**DECLARED)
    part = await client.uploads.part(upload.id, data=make(), offset=0)
    assert part.file_id is not None
    assert form_fields(server.requests[-1])[0][3] == b"abcdef"


async def test_a_file_is_read_from_its_position(
    client: AsyncLlamaClient, server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A file opened with 'rb' is sent from where it stands to its end."""
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"skip:abcdef")
    upload = await client.uploads.create(**DECLARED)
    with path.open("rb") as file:
        file.seek(5)
        await client.uploads.with_response.part(upload.id, data=file)
    assert form_fields(server.requests[-1])[0][3] == b"abcdef"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("abcdef", "bytes-like object"),
        (12, "bytes-like object"),
        (b"", "non-empty"),
        (io.StringIO("abc"), "binary file"),
        (io.BytesIO(b""), "non-empty"),
    ],
)
async def test_a_part_that_is_not_bytes_is_refused(
    client: AsyncLlamaClient, server: FakeLlamaAPI, data: Any, match: str
) -> None:
    """Text, numbers, text files and empty data are refused before any request."""
    with pytest.raises(InvalidArgumentError, match=match):
        await client.uploads.part("upload_1", data=data)
    assert server.requests == []


async def test_the_blocking_client_takes_a_file_object(server: FakeLlamaAPI) -> None:
    """LlamaClient.uploads.part reads a binary file object as well."""
    with LlamaClient(api_key=server.api_key, base_url=server.base_url) as client:

        def send() -> str | None:
            upload = client.uploads.create(**DECLARED)
            return client.uploads.part(upload.id, data=io.BytesIO(b"abcdef")).file_id

        assert await anyio.to_thread.run_sync(send) is not None
