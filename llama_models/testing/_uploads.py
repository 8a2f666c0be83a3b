"""The fake's Uploads API: resumable sessions with real offset bookkeeping (llama-api.md §1.5-1.7).

The API leaves the rules of a part open (§9 of the reference), so the fake picks
strict ones a client can be tested against: a part may name its position in
``X-Upload-Offset``, which must then equal the session's offset (409 otherwise);
an empty part, or one that would pass the declared size, is a 400; and once the
last byte has arrived the answer carries a ``file_id`` and every later part is a
409. Errors use the illustrative ``{"title", "detail", "status"}`` body.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from email.message import Message
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ..types._values import MIME_TYPES, PURPOSES

if TYPE_CHECKING:
    from ._routes import Call

__all__ = ["UploadStore", "UploadedFile", "create_upload", "get_upload", "upload_part"]

API_VERSION = "1.0.0"
_FIELDS = ("bytes", "filename", "mime_type", "purpose")
_DIGITS = re.compile(r"[0-9]+")


@attrs.frozen
class UploadedFile:
    """A file completed through the fake's Uploads API, as `FakeLlamaAPI.files` lists it.

    Attributes:
        filename: The file name declared when the upload session was created.
        mime_type: The declared MIME type.
        purpose: The declared purpose.
        data: Every byte of the file, in order.
    """

    filename: str
    mime_type: str
    purpose: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")


class _Refused(Exception):
    """A request the fake answers with an error status."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@attrs.define
class _Session:
    id: str
    size: int
    filename: str
    mime_type: str
    purpose: str
    received: bytearray = attrs.field(factory=bytearray)
    file_id: str | None = None


class UploadStore:
    """Upload sessions and the files they produced.

    Handlers change it on the server's loop while tests read `files` from any thread,
    so every access holds one lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._files: dict[str, UploadedFile] = {}

    def files(self) -> dict[str, UploadedFile]:
        """A snapshot of the finished files by file id, in the order they finished."""
        with self._lock:
            return dict(self._files)

    def create(self, fields: Mapping[str, Any]) -> _Session:
        session = _Session("upload_" + os.urandom(6).hex(), *(fields[name] for name in _FIELDS))
        with self._lock:
            self._sessions[session.id] = session
        return session

    def offset(self, upload_id: str) -> int:
        with self._lock:
            return len(self._find(upload_id).received)

    def append(self, upload_id: str, offset: int | None, data: bytes) -> tuple[int, str | None]:
        """Store *data* at *offset*; return the new offset and, once complete, the file id."""
        with self._lock:
            session = self._find(upload_id)
            current = len(session.received)
            if session.file_id is not None:
                raise _Refused(
                    409, "Conflict", f"Upload {upload_id} is complete ({session.file_id})"
                )
            if offset is not None and offset != current:
                raise _Refused(
                    409,
                    "Conflict",
                    f"Upload {upload_id} expects offset {current}, not {offset}",
                )
            if not data:
                raise _Refused(400, "Bad request", "The part is empty")
            if current + len(data) > session.size:
                raise _Refused(
                    400,
                    "Bad request",
                    f"A part of {len(data)} bytes at offset {current} passes the declared "
                    f"size of {session.size} bytes",
                )
            session.received += data
            if len(session.received) == session.size:
                session.file_id = "file_" + os.urandom(6).hex()
                self._files[session.file_id] = UploadedFile(
                    session.filename, session.mime_type, session.purpose, bytes(session.received)
                )
            return len(session.received), session.file_id

    def _find(self, upload_id: str) -> _Session:
        session = self._sessions.get(upload_id)
        if session is None:
            raise _Refused(404, "Not found", f"Upload {upload_id} not found")
        return session


async def create_upload(call: Call) -> web.StreamResponse:
    """``POST /v1/uploads``: open a session for a file of the declared size."""
    try:
        _check_version(call.request)
        fields = _creation_fields(call.request, await call.request.read())
    except _Refused as refused:
        return call.error(refused.status, refused.title, refused.detail)
    session = call.uploads.create(fields)
    return _answer(call, {"id": session.id, **{name: fields[name] for name in _FIELDS}})


async def get_upload(call: Call) -> web.StreamResponse:
    """``GET /v1/uploads/{upload_id}``: the offset the session resumes from."""
    upload_id = call.params["upload_id"]
    try:
        _check_version(call.request)
        offset = call.uploads.offset(upload_id)
    except _Refused as refused:
        return call.error(refused.status, refused.title, refused.detail)
    return _answer(call, {"upload_id": upload_id, "offset": offset})


async def upload_part(call: Call) -> web.StreamResponse:
    """``POST /v1/uploads/{upload_id}``: append the multipart field ``data``."""
    upload_id = call.params["upload_id"]
    request = call.request
    try:
        _check_version(request)
        call.uploads.offset(upload_id)  # an unknown session is a 404 whatever the body
        offset = _offset_header(request.headers.get("X-Upload-Offset"))
        data = _data_field(request.headers.get("Content-Type", ""), await request.read())
        new_offset, file_id = call.uploads.append(upload_id, offset, data)
    except _Refused as refused:
        return call.error(refused.status, refused.title, refused.detail)
    answer: dict[str, Any] = {"upload_id": upload_id, "offset": new_offset}
    if file_id is not None:
        answer["file_id"] = file_id
    return _answer(call, answer)


def _answer(call: Call, body: Mapping[str, Any]) -> web.Response:
    return call.json(json.dumps(body).encode())


def _check_version(request: web.Request) -> None:
    version = request.headers.get("X-API-Version")
    if version is not None and version != API_VERSION:
        raise _Refused(400, "Bad request", f"X-API-Version must be {API_VERSION}, not {version!r}")


def _creation_fields(request: web.Request, body: bytes) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _Refused(400, "Bad request", "Content-Type must be application/json")
    try:
        fields = json.loads(body)
    except ValueError:
        raise _Refused(400, "Bad request", "The body is not valid JSON") from None
    if not isinstance(fields, dict):
        raise _Refused(400, "Bad request", "The body must be a JSON object")
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise _Refused(400, "Bad request", f"Missing required fields: {', '.join(missing)}")
    size = fields["bytes"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _Refused(400, "Bad request", f"bytes must be an integer >= 1, not {size!r}")
    if not isinstance(fields["filename"], str) or not fields["filename"]:
        raise _Refused(400, "Bad request", "filename must be a non-empty string")
    for name, allowed in (("mime_type", MIME_TYPES), ("purpose", PURPOSES)):
        if fields[name] not in allowed:
            raise _Refused(
                400,
                "Bad request",
                f"{name} must be one of {', '.join(sorted(allowed))}, not {fields[name]!r}",
            )
    return fields


def _offset_header(value: str | None) -> int | None:
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):
        raise _Refused(
            400, "Bad request", f"X-Upload-Offset must be a non-negative integer, not {value!r}"
        )
    return int(value)


def _data_field(content_type: str, body: bytes) -> bytes:
    """The content of the one file field ``data`` of a ``multipart/form-data`` body."""
    header = _header_params("Content-Type", content_type)
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise _Refused(400, "Bad request", "The part must be sent as multipart/form-data")
    delimiter = b"\r\n--" + boundary.encode()
    # Each section after a delimiter starts with CRLF (a field) or "--" (the end).
    sections = (b"\r\n" + body).split(delimiter)
    if len(sections) != 3 or sections[0] or sections[2] not in (b"--", b"--\r\n"):
        raise _Refused(400, "Bad request", "The form must hold exactly one field, named data")
    head, blank, content = sections[1].partition(b"\r\n\r\n")
    if not head.startswith(b"\r\n") or not blank:
        raise _Refused(400, "Bad request", "The form field is malformed")
    headers = {}
    for line in head[2:].decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    disposition = _header_params("Content-Disposition", headers.get("content-disposition", ""))
    if (
        disposition.get_content_disposition() != "form-data"
        or disposition.get_param("name", header="content-disposition") != "data"
        or disposition.get_param("filename", header="content-disposition") is None
    ):
        raise _Refused(400, "Bad request", "The form must hold one file field named data")
    return content


def _header_params(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message
