"""The Uploads API: ``POST /uploads``, ``GET /uploads/{upload_id}``, ``POST /uploads/{upload_id}``.

An upload is a session: `create` declares the whole file, `part` sends its
bytes in order, and the answer to the part that completes it carries the file
id. `get` says where an interrupted session resumes. `upload_file` does all of
it for a file on disk.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._config import validate_count
from .._multipart import file_field
from .._options import BodyOptions, RequestOptions, Unpack
from .._protocol import RequestSpec, path_segment
from ..errors import InvalidArgumentError
from ..types.response import APIResponse
from ..types.uploads import Upload, UploadMimeType, UploadPart, UploadPurpose, UploadStatus
from ._base import Requester
from ._resume import ProgressCallback, send_parts
from ._source import (
    MIME_TYPES,
    PURPOSES,
    FileSource,
    check_choice,
    choose_mime_type,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer


class BinaryFile(Protocol):
    """A binary file object, as ``open(path, "rb")`` or ``io.BytesIO`` give."""

    def read(self, size: int = ..., /) -> bytes: ...


__all__ = ["DEFAULT_MAX_RESUMES", "DEFAULT_PART_SIZE", "AsyncUploads", "AsyncUploadsWithResponse"]

DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_MAX_RESUMES = 3

# The only version the API defines; sending it pins the behaviour this client was written for.
_API_VERSION = {"X-API-Version": "1.0.0"}


def _create(
    bytes: int, filename: str, mime_type: str, purpose: str, extra_body: Mapping[str, Any] | None
) -> RequestSpec:
    validate_count(bytes, "bytes", minimum=1)
    if not isinstance(filename, str) or not filename:
        raise InvalidArgumentError(f"filename must be a non-empty str, not {filename!r}")
    check_choice(mime_type, MIME_TYPES, "mime_type")
    check_choice(purpose, PURPOSES, "purpose")
    body = {"bytes": bytes, "filename": filename, "mime_type": mime_type, "purpose": purpose}
    from .._chat_request import merge_extra

    return RequestSpec("POST", "uploads", json=merge_extra(body, extra_body), headers=_API_VERSION)


def _get(upload_id: str) -> RequestSpec:
    return RequestSpec(
        "GET", "uploads/" + path_segment(upload_id, "upload_id"), headers=_API_VERSION
    )


def _part(
    upload_id: str,
    data: object,
    offset: int | None,
    filename: str = "upload",
) -> RequestSpec:
    path = "uploads/" + path_segment(upload_id, "upload_id")
    payload = _payload(data)
    headers = _API_VERSION
    if offset is not None:
        headers = {
            **_API_VERSION,
            "X-Upload-Offset": str(validate_count(offset, "offset", minimum=0)),
        }
    body, content_type = file_field("data", payload, filename=filename)
    return RequestSpec("POST", path, content=body, content_type=content_type, headers=headers)


def _payload(data: object) -> bytes:
    """The bytes of a bytes-like *data* (anything with the buffer protocol), at least one."""
    if data.__class__ is bytes:
        payload: bytes = data
    else:
        try:
            payload = memoryview(data).tobytes()  # type: ignore[arg-type]
        except TypeError:
            raise InvalidArgumentError(
                "data must be a bytes-like object (bytes, bytearray, memoryview, array...) "
                f"or a binary file, not {type(data).__name__}"
            ) from None
    if not payload:
        raise InvalidArgumentError("data must be non-empty bytes, not empty bytes")
    return payload


async def _read_part(data: object) -> object:
    """The bytes of a part: *data* itself, or what a binary file object holds from its position.

    A file is read in the loop's default executor, so that a large part does not
    stall the event loop.
    """
    read = getattr(data, "read", None)
    if read is None or isinstance(data, bytes | bytearray | memoryview):
        return data
    import asyncio

    content = await asyncio.get_running_loop().run_in_executor(None, read)
    if not isinstance(content, bytes):
        raise InvalidArgumentError(
            f"data must be a binary file (opened with 'rb'); its read() gave {type(content).__name__}"
        )
    return content


class AsyncUploadsWithResponse:
    """The `AsyncUploads` methods, returning the parsed result with its HTTP response."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        bytes: int,
        filename: str,
        mime_type: UploadMimeType,
        purpose: UploadPurpose,
        **options: Unpack[BodyOptions],
    ) -> APIResponse[Upload]:
        """Start an upload session, with the HTTP status and headers.

        Args:
            bytes: the size of the whole file, at least 1.
            filename: the file's name, as the server should record it.
            mime_type: the file's type, one of `UploadMimeType`.
            purpose: what the file is for, one of `UploadPurpose`.
            **options: the per-call options (see `BodyOptions`), ``extra_body`` included.
        """
        return await self._client._request(
            _create(bytes, filename, mime_type, purpose, options.get("extra_body")),
            Upload,
            options,
        )

    async def get(
        self,
        upload_id: str,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[UploadStatus]:
        """Ask how far an upload session has got, with the HTTP status and headers.

        Args:
            upload_id: the session id from `create`.
            **options: the per-call options (see `RequestOptions`).
        """
        return await self._client._request(_get(upload_id), UploadStatus, options)

    async def part(
        self,
        upload_id: str,
        *,
        data: Buffer | BinaryFile,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[UploadPart]:
        """Send the next bytes of an upload, with the HTTP status and headers.

        Args:
            upload_id: the session id from `create`.
            data: the bytes, at least one: any bytes-like object (bytes,
                bytearray, memoryview, array, mmap...), or a binary file object,
                read from its current position to its end.
            offset: where *data* starts in the file, sent as ``X-Upload-Offset``;
                ``None`` appends at the server's offset.
            **options: the per-call options (see `RequestOptions`).
        """
        return await self._client._request(
            _part(upload_id, await _read_part(data), offset), UploadPart, options
        )


class AsyncUploads:
    """Resumable file uploads: ``client.uploads``.

    `upload_file` sends a file from disk and returns its file id; `create`,
    `part` and `get` are the API's own three calls, for data that is not in a
    file or for driving a session by hand.

    Attributes:
        with_response: `create`, `get` and `part`, returning an `APIResponse`
            that carries the status code, headers, request id and rate limits.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.with_response = AsyncUploadsWithResponse(client)

    async def create(
        self,
        *,
        bytes: int,
        filename: str,
        mime_type: UploadMimeType,
        purpose: UploadPurpose,
        **options: Unpack[BodyOptions],
    ) -> Upload:
        """Start an upload session for a file of *bytes* bytes.

        Returns the `Upload`, whose ``id`` names the session in `part` and `get`.
        Nothing of the file is sent yet.

        Args:
            bytes: the size of the whole file, at least 1.
            filename: the file's name, as the server should record it.
            mime_type: the file's type, one of `UploadMimeType`; the server may
                refuse a type that does not suit *purpose*.
            purpose: what the file is for, one of `UploadPurpose`.
            **options: the per-call options (see `BodyOptions`), ``extra_body`` included.
        """
        response = await self._client._request(
            _create(bytes, filename, mime_type, purpose, options.get("extra_body")),
            Upload,
            options,
        )
        return response.data

    async def get(
        self,
        upload_id: str,
        **options: Unpack[RequestOptions],
    ) -> UploadStatus:
        """Ask how far an upload session has got.

        The `UploadStatus` ``offset`` is the position of the next byte the server
        expects: after a part was lost, send the file again from there. Raises
        `NotFoundError` for an unknown session.

        Args:
            upload_id: the session id from `create`.
            **options: the per-call options (see `RequestOptions`).
        """
        response = await self._client._request(_get(upload_id), UploadStatus, options)
        return response.data

    async def part(
        self,
        upload_id: str,
        *,
        data: Buffer | BinaryFile,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> UploadPart:
        """Send the next bytes of an upload.

        The bytes go as the file field ``data`` of a ``multipart/form-data``
        body. The `UploadPart` answer has the offset of the next byte to send,
        and, once the last byte has arrived, the ``file_id``. A part is not
        retried after the connection drops or on a 5xx, since the server may
        have stored it: ask `get` where to go on (`upload_file` does this).

        Args:
            upload_id: the session id from `create`.
            data: the bytes, at least one: any bytes-like object (bytes,
                bytearray, memoryview, array, mmap...), or a binary file object,
                read from its current position to its end.
            offset: where *data* starts in the file, sent as ``X-Upload-Offset``;
                the server refuses a part that does not start at its current
                offset with `ConflictError`. ``None`` appends at the server's
                offset.
            **options: the per-call options (see `RequestOptions`).
        """
        response = await self._client._request(
            _part(upload_id, await _read_part(data), offset), UploadPart, options
        )
        return response.data

    async def upload_file(
        self,
        path: str | os.PathLike[str],
        *,
        purpose: UploadPurpose,
        mime_type: UploadMimeType | None = None,
        filename: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        on_progress: ProgressCallback | None = None,
        **options: Unpack[RequestOptions],
    ) -> str:
        """Upload the file at *path* and return its file id.

        Every argument, and the file itself, is checked before anything is sent.
        The file is then read and sent one part at a time, never held in memory
        whole, each part carrying its offset. When a part fails (the connection
        drops, the call times out, or the server answers 408, 409, 429 or 5xx),
        the server is asked for its offset and the upload resumes from there,
        so a part the server stored before its answer was lost is not sent
        twice. After *max_resumes* failures in a row with no progress the last
        error is raised.

        The file must not change while it uploads: if its size changes, the
        upload stops with `InvalidArgumentError` before the next part is sent.

        Args:
            path: the file to upload; a non-empty regular file.
            purpose: what the file is for, one of `UploadPurpose`.
            mime_type: the file's type, one of `UploadMimeType`; guessed from
                the extension of *filename* when ``None`` (``.jsonl`` is
                ``application/jsonl``), and refused when it cannot be guessed.
            filename: the name the server records; the name of *path* when ``None``.
            part_size: the largest part, in bytes (8 MiB by default).
            max_resumes: how many failed parts in a row to resume from before
                giving up; 0 gives up at the first failure.
            on_progress: called as ``on_progress(sent_bytes, total_bytes)`` with
                0 once the session exists, then each time the server's count of
                bytes changes. An exception it raises abandons the upload. With
                `LlamaClient` it runs on the client's event-loop thread, not on
                the thread that called `upload_file`.
            **options: the per-call options (see `RequestOptions`), applied to
                each request of the upload: ``timeout`` bounds each request,
                retries included.

        Raises:
            APIError: the server holds the whole file but the answer naming its
                file id was lost; the API cannot look it up, so upload again.
        """
        check_choice(purpose, PURPOSES, "purpose")
        validate_count(part_size, "part_size", minimum=1)
        validate_count(max_resumes, "max_resumes", minimum=0)
        if on_progress is not None and not callable(on_progress):
            raise InvalidArgumentError(f"on_progress must be callable, not {on_progress!r}")
        if filename is not None and (not isinstance(filename, str) or not filename):
            raise InvalidArgumentError(f"filename must be a non-empty str, not {filename!r}")
        source = FileSource(path)
        try:
            name = source.name if filename is None else filename
            declared = choose_mime_type(mime_type, name)
            upload = await self.create(
                bytes=source.size,
                filename=name,
                mime_type=declared,
                purpose=purpose,
                **options,
            )
            session = upload.id

            def send(chunk: bytes, offset: int) -> Awaitable[APIResponse[UploadPart]]:
                # The part carries the file's name, as the official SDK sends a file's parts.
                spec = _part(session, chunk, offset, name)
                return self._client._request(spec, UploadPart, options)

            def status() -> Awaitable[APIResponse[UploadStatus]]:
                return self.with_response.get(session, **options)

            return await send_parts(
                source,
                session,
                send=send,
                status=status,
                part_size=part_size,
                max_resumes=max_resumes,
                report=on_progress or _ignore,
            )
        finally:
            source.close()


def _ignore(sent: int, total: int) -> None:
    pass
