"""Blocking mirrors of the Uploads API (`llama_models._resources.uploads`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .._options import BodyOptions, RequestOptions, Unpack
from .._resources._resume import ProgressCallback
from .._resources.uploads import (
    DEFAULT_MAX_RESUMES,
    DEFAULT_PART_SIZE,
    AsyncUploads,
    AsyncUploadsWithResponse,
)
from ..types.response import APIResponse
from ..types.uploads import Upload, UploadMimeType, UploadPart, UploadPurpose, UploadStatus
from ._twin import twin

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from .._portal import Portal
    from .._resources.uploads import BinaryFile

__all__ = ["Uploads", "UploadsWithResponse"]


class UploadsWithResponse:
    """The `Uploads` methods, returning the parsed result with its HTTP response."""

    def __init__(self, portal: Portal, inner: AsyncUploadsWithResponse) -> None:
        self._portal = portal
        self._inner = inner

    @twin(AsyncUploadsWithResponse.create)
    def create(
        self,
        *,
        bytes: int,
        filename: str,
        mime_type: UploadMimeType,
        purpose: UploadPurpose,
        **options: Unpack[BodyOptions],
    ) -> APIResponse[Upload]:
        return self._portal.call(
            self._inner.create,
            bytes=bytes,
            filename=filename,
            mime_type=mime_type,
            purpose=purpose,
            **options,
        )

    @twin(AsyncUploadsWithResponse.get)
    def get(
        self,
        upload_id: str,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[UploadStatus]:
        return self._portal.call(self._inner.get, upload_id, **options)

    @twin(AsyncUploadsWithResponse.part)
    def part(
        self,
        upload_id: str,
        *,
        data: Buffer | BinaryFile,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[UploadPart]:
        return self._portal.call(
            self._inner.part,
            upload_id,
            data=data,
            offset=offset,
            **options,
        )


class Uploads:
    """Resumable file uploads: ``client.uploads``.

    `upload_file` sends a file from disk and returns its file id; `create`,
    `part` and `get` are the API's own three calls, for data that is not in a
    file or for driving a session by hand.

    Attributes:
        with_response: `create`, `get` and `part`, returning an `APIResponse`
            that carries the status code, headers, request id and rate limits.
    """

    def __init__(self, portal: Portal, inner: AsyncUploads) -> None:
        self._portal = portal
        self._inner = inner
        self.with_response = UploadsWithResponse(portal, inner.with_response)

    @twin(AsyncUploads.create)
    def create(
        self,
        *,
        bytes: int,
        filename: str,
        mime_type: UploadMimeType,
        purpose: UploadPurpose,
        **options: Unpack[BodyOptions],
    ) -> Upload:
        return self._portal.call(
            self._inner.create,
            bytes=bytes,
            filename=filename,
            mime_type=mime_type,
            purpose=purpose,
            **options,
        )

    @twin(AsyncUploads.get)
    def get(
        self,
        upload_id: str,
        **options: Unpack[RequestOptions],
    ) -> UploadStatus:
        return self._portal.call(self._inner.get, upload_id, **options)

    @twin(AsyncUploads.part)
    def part(
        self,
        upload_id: str,
        *,
        data: Buffer | BinaryFile,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> UploadPart:
        return self._portal.call(
            self._inner.part,
            upload_id,
            data=data,
            offset=offset,
            **options,
        )

    @twin(AsyncUploads.upload_file)
    def upload_file(
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
        return self._portal.call(
            self._inner.upload_file,
            path,
            purpose=purpose,
            mime_type=mime_type,
            filename=filename,
            part_size=part_size,
            max_resumes=max_resumes,
            on_progress=on_progress,
            **options,
        )
