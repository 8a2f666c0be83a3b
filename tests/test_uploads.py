"""The Uploads API's own three calls over loopback HTTP, on both clients."""

from __future__ import annotations

from typing import Any

import pytest
from upload_support import form_fields

from llama_models import (
    APIResponse,
    AsyncLlamaClient,
    ConflictError,
    InvalidArgumentError,
    LlamaClient,
    NotFoundError,
    Upload,
    UploadPart,
    UploadStatus,
)
from llama_models._multipart import file_field
from llama_models.testing import FakeLlamaAPI, UploadedFile

pytestmark = pytest.mark.anyio

DECLARED: dict[str, Any] = {
    "bytes": 10,
    "filename": "simpleqa.jsonl",
    "mime_type": "application/jsonl",
    "purpose": "messages_finetune",
}


async def test_create_declares_the_file_and_returns_the_session(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """create() POSTs the four fields as JSON with X-API-Version and returns the echoed Upload."""
    upload = await client.uploads.create(**DECLARED)
    assert isinstance(upload, Upload)
    assert upload.id.startswith("upload_")
    assert (upload.bytes, upload.filename, upload.mime_type, upload.purpose) == (
        10,
        "simpleqa.jsonl",
        "application/jsonl",
        "messages_finetune",
    )
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/uploads")
    assert request.headers["X-API-Version"] == "1.0.0"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == DECLARED


async def test_parts_carry_one_file_field_named_data(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """part() sends multipart/form-data with the single file field data, and the offset when given."""
    upload = await client.uploads.create(**DECLARED)
    first = await client.uploads.part(upload.id, data=b"0123\r\n--x", offset=0)
    assert first == UploadPart(upload_id=upload.id, offset=9, file_id=None)
    second = await client.uploads.part(upload.id, data=b"9")
    assert second.offset == 10
    assert second.file_id is not None
    _, with_offset, without_offset = server.requests
    for request in (with_offset, without_offset):
        assert (request.method, request.path) == ("POST", f"/v1/uploads/{upload.id}")
        assert request.headers["X-API-Version"] == "1.0.0"
        assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert with_offset.headers["X-Upload-Offset"] == "0"
    assert "X-Upload-Offset" not in without_offset.headers
    assert form_fields(with_offset) == [
        ("data", "upload", "application/octet-stream", b"0123\r\n--x")
    ]
    assert form_fields(without_offset) == [("data", "upload", "application/octet-stream", b"9")]
    assert server.files == {
        second.file_id: UploadedFile(
            "simpleqa.jsonl", "application/jsonl", "messages_finetune", b"0123\r\n--x9"
        )
    }


async def test_get_reports_the_offset_to_resume_from(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """get() returns the session's offset: 0 at first, then the bytes received so far."""
    upload = await client.uploads.create(**DECLARED)
    assert await client.uploads.get(upload.id) == UploadStatus(upload_id=upload.id, offset=0)
    await client.uploads.part(upload.id, data=b"abcd", offset=0)
    assert (await client.uploads.get(upload.id)).offset == 4
    request = server.requests[-1]
    assert (request.method, request.path, request.body) == ("GET", f"/v1/uploads/{upload.id}", b"")
    assert request.headers["X-API-Version"] == "1.0.0"


async def test_a_part_at_the_wrong_offset_is_a_conflict(client: AsyncLlamaClient) -> None:
    """A part whose offset is not the server's raises ConflictError naming the expected offset."""
    upload = await client.uploads.create(**DECLARED)
    with pytest.raises(ConflictError) as caught:
        await client.uploads.part(upload.id, data=b"abcd", offset=4)
    assert caught.value.status_code == 409
    assert "expects offset 0" in caught.value.message


async def test_unknown_upload_is_not_found(client: AsyncLlamaClient) -> None:
    """get() and part() on an unknown session raise NotFoundError."""
    with pytest.raises(NotFoundError):
        await client.uploads.get("upload_nope")
    with pytest.raises(NotFoundError):
        await client.uploads.part("upload_nope", data=b"x")


async def test_with_response_returns_status_headers_and_data(client: AsyncLlamaClient) -> None:
    """with_response.create/get/part return an APIResponse around the same typed results."""
    created = await client.uploads.with_response.create(**{**DECLARED, "bytes": 2})
    assert isinstance(created, APIResponse)
    assert isinstance(created.data, Upload)
    assert created.status_code == 200
    assert created.rate_limit is not None
    upload_id = created.data.id
    status = await client.uploads.with_response.get(upload_id)
    assert status.data == UploadStatus(upload_id, 0)
    part = await client.uploads.with_response.part(upload_id, data=b"ab", offset=0)
    assert part.status_code == 200
    assert part.data.offset == 2
    assert part.data.file_id is not None
    assert part.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"bytes": 0}, "bytes"),
        ({"bytes": True}, "bytes"),
        ({"bytes": "10"}, "bytes"),
        ({"filename": ""}, "filename"),
        ({"filename": None}, "filename"),
        ({"mime_type": "image/bmp"}, "mime_type"),
        ({"purpose": "training"}, "purpose"),
    ],
)
async def test_bad_create_arguments_fail_before_any_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI, change: dict[str, Any], named: str
) -> None:
    """create() refuses a bad field locally, naming it, and sends nothing."""
    with pytest.raises(InvalidArgumentError, match=named):
        await client.uploads.create(**{**DECLARED, **change})
    assert server.requests == []


@pytest.mark.parametrize(
    ("upload_id", "kwargs", "named"),
    [
        ("upload_1", {"data": b""}, "data"),
        ("upload_1", {"data": "text"}, "data"),
        ("upload_1", {"data": b"x", "offset": -1}, "offset"),
        ("upload_1", {"data": b"x", "offset": True}, "offset"),
        ("", {"data": b"x"}, "upload_id"),
        ("..", {"data": b"x"}, "upload_id"),
    ],
)
async def test_bad_part_arguments_fail_before_any_request(
    client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    upload_id: str,
    kwargs: dict[str, Any],
    named: str,
) -> None:
    """part() refuses empty or non-bytes data, a negative offset and a bad id locally."""
    with pytest.raises(InvalidArgumentError, match=named):
        await client.uploads.part(upload_id, **kwargs)
    assert server.requests == []


@pytest.mark.parametrize("upload_id", ["", ".", "..", 7])
async def test_bad_upload_ids_fail_before_any_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI, upload_id: Any
) -> None:
    """get() refuses an id that is not one non-empty path segment, and sends nothing."""
    with pytest.raises(InvalidArgumentError, match="upload_id"):
        await client.uploads.get(upload_id)
    assert server.requests == []


def test_blocking_client_drives_a_session_by_hand(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """LlamaClient's create/part/get and with_response return the same typed results."""
    upload = sync_client.uploads.create(**{**DECLARED, "bytes": 3, "filename": "a.txt"})
    assert sync_client.uploads.part(upload.id, data=b"ab", offset=0).offset == 2
    assert sync_client.uploads.get(upload.id).offset == 2
    assert sync_client.uploads.with_response.get(upload.id).data.offset == 2
    done = sync_client.uploads.with_response.part(upload.id, data=bytearray(b"c"), offset=2)
    assert done.data.file_id is not None
    assert threaded_server.files[done.data.file_id].data == b"abc"
    again = sync_client.uploads.with_response.create(**DECLARED)
    assert again.data.bytes == 10
    with pytest.raises(ConflictError):
        sync_client.uploads.part(upload.id, data=b"d")


def test_multipart_body_is_exactly_rfc_7578() -> None:
    """The encoder writes one field with a fixed layout and escapes quotes and line breaks."""
    body, content_type = file_field("data", b"\x00\xff", filename='a"b\r\nc', boundary="XyZ")
    assert content_type == "multipart/form-data; boundary=XyZ"
    assert body == (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="data"; filename="a%22b%0D%0Ac"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\x00\xff\r\n--XyZ--\r\n"
    )


def test_multipart_boundaries_are_random_and_never_in_the_data() -> None:
    """Each body gets a fresh random boundary; a given boundary found in the data is refused."""
    _, first = file_field("data", b"x")
    _, second = file_field("data", b"x")
    assert first != second
    with pytest.raises(ValueError, match="boundary"):
        file_field("data", b"a--XyZb", boundary="XyZ")
