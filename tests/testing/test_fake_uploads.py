"""Specification of the fake server's Uploads API, exercised with a plain aiohttp client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from llama_models.testing import FakeLlamaAPI, Fault, UploadedFile

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": "Bearer test-key"}
DECLARED = {
    "bytes": 6,
    "filename": "simpleqa.jsonl",
    "mime_type": "application/jsonl",
    "purpose": "messages_finetune",
}


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON body."""
    async with session.request(method, url, headers={**AUTH, **(headers or {})}, **kwargs) as r:
        assert r.headers["Content-Type"] == "application/json"
        return r.status, await r.json()


def form(data: bytes, *, disposition: str = 'form-data; name="data"; filename="upload"') -> bytes:
    """A multipart/form-data body (boundary XyZ) with one field."""
    return (
        (
            f"--XyZ\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + b"\r\n--XyZ--\r\n"
    )


FORM = {"Content-Type": "multipart/form-data; boundary=XyZ"}


async def open_session(api: FakeLlamaAPI, session: aiohttp.ClientSession, **change: Any) -> str:
    """Create an upload session for DECLARED (with *change*) and return its id."""
    status, body = await call(session, "POST", f"{api.base_url}/uploads", json=DECLARED | change)
    assert status == 200, body
    return str(body["id"])


async def send(
    api: FakeLlamaAPI,
    session: aiohttp.ClientSession,
    upload_id: str,
    data: bytes,
    offset: int | None = None,
) -> tuple[int, Any]:
    """Send one part, with X-Upload-Offset when *offset* is given."""
    headers = FORM if offset is None else {**FORM, "X-Upload-Offset": str(offset)}
    return await call(
        session, "POST", f"{api.base_url}/uploads/{upload_id}", headers, data=form(data)
    )


async def test_create_echoes_the_declared_file_with_a_session_id(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """POST /v1/uploads answers the request's four fields and an upload_ id."""
    status, body = await call(
        session, "POST", f"{api.base_url}/uploads", {"X-API-Version": "1.0.0"}, json=DECLARED
    )
    assert status == 200
    assert body == {"id": body["id"], **DECLARED}
    assert body["id"].startswith("upload_")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({k: v for k, v in DECLARED.items() if k != "purpose"}, "Missing required fields: purpose"),
        (DECLARED | {"bytes": 0}, "bytes must be an integer >= 1"),
        (DECLARED | {"bytes": True}, "bytes must be an integer >= 1"),
        (DECLARED | {"bytes": "6"}, "bytes must be an integer >= 1"),
        (DECLARED | {"filename": ""}, "filename must be a non-empty string"),
        (DECLARED | {"mime_type": "image/bmp"}, "mime_type must be one of"),
        (DECLARED | {"purpose": "training"}, "purpose must be one of"),
        ([DECLARED], "The body must be a JSON object"),
    ],
)
async def test_create_refuses_a_bad_declaration_with_400(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, body: Any, detail: str
) -> None:
    """A missing field, a size below 1, an empty name or a value outside the enums is a 400."""
    status, error = await call(session, "POST", f"{api.base_url}/uploads", json=body)
    assert status == 400
    assert error["title"] == "Bad request"
    assert error["status"] == 400
    assert error["detail"].startswith(detail)


async def test_create_needs_a_json_body(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A body that is not JSON, or not sent as JSON, is a 400."""
    url = f"{api.base_url}/uploads"
    status, error = await call(session, "POST", url, data=json.dumps(DECLARED))
    assert (status, error["detail"]) == (400, "Content-Type must be application/json")
    headers = {"Content-Type": "application/json"}
    status, error = await call(session, "POST", url, headers, data=b"{")
    assert (status, error["detail"]) == (400, "The body is not valid JSON")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/uploads"), ("GET", "/uploads/upload_x"), ("POST", "/uploads/upload_x")],
)
async def test_another_api_version_is_400(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, method: str, path: str
) -> None:
    """X-API-Version, when sent, must be 1.0.0 on every upload endpoint."""
    status, error = await call(
        session, method, api.base_url + path, {"X-API-Version": "2.0.0"}, json=DECLARED
    )
    assert status == 400
    assert error["detail"] == "X-API-Version must be 1.0.0, not '2.0.0'"


async def test_parts_advance_the_offset_and_the_last_names_the_file(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Parts with or without X-Upload-Offset append; the completing one answers a file_id."""
    upload_id = await open_session(api, session)
    status_url = f"{api.base_url}/uploads/{upload_id}"
    assert await call(session, "GET", status_url) == (200, {"upload_id": upload_id, "offset": 0})
    assert await send(api, session, upload_id, b"ab", 0) == (
        200,
        {"upload_id": upload_id, "offset": 2},
    )
    assert await send(api, session, upload_id, b"cd") == (
        200,
        {"upload_id": upload_id, "offset": 4},
    )
    assert (await call(session, "GET", status_url))[1]["offset"] == 4
    status, body = await send(api, session, upload_id, b"\r\n", 4)
    assert status == 200
    assert body == {"upload_id": upload_id, "offset": 6, "file_id": body["file_id"]}
    assert body["file_id"].startswith("file_")
    assert api.files == {
        body["file_id"]: UploadedFile(
            "simpleqa.jsonl", "application/jsonl", "messages_finetune", b"abcd\r\n"
        )
    }
    assert (await call(session, "GET", status_url))[1] == {"upload_id": upload_id, "offset": 6}


async def test_a_part_at_another_offset_is_a_conflict_naming_the_expected_one(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """An X-Upload-Offset other than the session's offset is a 409 and stores nothing."""
    upload_id = await open_session(api, session)
    await send(api, session, upload_id, b"ab", 0)
    for offset in (0, 3):
        status, error = await send(api, session, upload_id, b"cd", offset)
        assert status == 409
        assert error["detail"] == f"Upload {upload_id} expects offset 2, not {offset}"
    assert (await call(session, "GET", f"{api.base_url}/uploads/{upload_id}"))[1]["offset"] == 2


async def test_a_part_after_completion_is_a_conflict(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Once the file is complete every further part is a 409."""
    upload_id = await open_session(api, session, bytes=1)
    assert (await send(api, session, upload_id, b"a"))[0] == 200
    status, error = await send(api, session, upload_id, b"b")
    assert status == 409
    assert "is complete" in error["detail"]
    assert [f.data for f in api.files.values()] == [b"a"]


@pytest.mark.parametrize(
    ("data", "offset", "detail"),
    [
        (b"", None, "The part is empty"),
        (b"abcdefg", 0, "A part of 7 bytes at offset 0 passes the declared size of 6 bytes"),
    ],
)
async def test_an_empty_or_oversized_part_is_400(
    api: FakeLlamaAPI,
    session: aiohttp.ClientSession,
    data: bytes,
    offset: int | None,
    detail: str,
) -> None:
    """An empty part, or one that would pass the declared size, is a 400."""
    upload_id = await open_session(api, session)
    assert await send(api, session, upload_id, data, offset) == (
        400,
        {"title": "Bad request", "detail": detail, "status": 400},
    )


@pytest.mark.parametrize(
    ("body", "headers", "detail"),
    [
        (form(b"x", disposition='form-data; name="file"; filename="a"'), FORM, "The form must"),
        (form(b"x", disposition='form-data; name="data"'), FORM, "The form must hold one file"),
        (form(b"x"), {"Content-Type": "application/octet-stream"}, "The part must be sent as"),
        (form(b"x")[:-4], FORM, "The form must hold exactly one field"),
        (form(b"x"), {**FORM, "X-Upload-Offset": "-1"}, "X-Upload-Offset must be"),
    ],
    ids=["wrong-name", "not-a-file", "not-multipart", "unterminated", "bad-offset"],
)
async def test_a_malformed_part_is_400(
    api: FakeLlamaAPI,
    session: aiohttp.ClientSession,
    body: bytes,
    headers: dict[str, str],
    detail: str,
) -> None:
    """Anything but one file field named data, or an offset that is not a number, is a 400."""
    upload_id = await open_session(api, session)
    status, error = await call(
        session, "POST", f"{api.base_url}/uploads/{upload_id}", headers, data=body
    )
    assert status == 400
    assert error["detail"].startswith(detail)


async def test_a_form_with_two_fields_is_400(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A second field next to data is refused."""
    upload_id = await open_session(api, session)
    second = b'--XyZ\r\nContent-Disposition: form-data; name="other"\r\n\r\ny\r\n--XyZ--\r\n'
    body = form(b"x").removesuffix(b"--XyZ--\r\n") + second
    url = f"{api.base_url}/uploads/{upload_id}"
    status, error = await call(session, "POST", url, FORM, data=body)
    assert (status, error["detail"]) == (400, "The form must hold exactly one field, named data")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_unknown_session_is_404(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, method: str
) -> None:
    """Status and parts of an unknown upload id are a 404."""
    status, error = await call(
        session, method, f"{api.base_url}/uploads/upload_nope", FORM, data=form(b"x")
    )
    assert (status, error["detail"]) == (404, "Upload upload_nope not found")


async def test_drop_after_handling_stores_the_part_but_loses_the_answer(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """The part is stored, the connection closes without an answer, and the offset shows it."""
    upload_id = await open_session(api, session)
    api.enqueue(Fault.drop_after_handling())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await send(api, session, upload_id, b"abc", 0)
    status, body = await call(session, "GET", f"{api.base_url}/uploads/{upload_id}")
    assert (status, body["offset"]) == (200, 3)
    assert api.pending_faults == 0


async def test_drop_after_handling_applies_to_any_answer(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Even an error answer (401 for a bad key) is withheld."""
    api.enqueue(Fault.drop_after_handling())
    bad_key = {"Authorization": "Bearer nope"}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        # A POST, since aiohttp resends a GET whose connection closed without an answer.
        await call(session, "POST", f"{api.base_url}/uploads", bad_key, json=DECLARED)
    assert len(api.requests) == 1


def test_files_can_be_read_from_any_thread(fake_llama_api: FakeLlamaAPI) -> None:
    """files is a snapshot that other threads read while the server's loop fills it."""

    async def upload(index: int) -> str:
        async with aiohttp.ClientSession() as client:
            upload_id = await open_session(fake_llama_api, client, bytes=1, filename=f"{index}.txt")
            status, body = await send(fake_llama_api, client, upload_id, bytes([index]))
            assert status == 200
            return str(body["file_id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lambda index: asyncio.run(upload(index)), range(8)))
    files = fake_llama_api.files
    assert set(files) == set(ids)
    assert sorted(f.filename for f in files.values()) == [f"{i}.txt" for i in range(8)]
    files.clear()
    assert len(fake_llama_api.files) == 8
