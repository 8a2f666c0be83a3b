"""Uploads: resumable upload sessions that turn a local file into a file id.

`UploadMimeType` and `UploadPurpose` list the values the API accepts when a
session is created. The response classes type those fields as plain ``str``,
so a value the server adds later still parses.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from ._wire import WireObject

__all__ = [
    "ImageMimeType",
    "Upload",
    "UploadMimeType",
    "UploadPart",
    "UploadPurpose",
    "UploadStatus",
]

ImageMimeType = Literal["image/jpeg", "image/jpg", "image/png", "image/gif", "image/x-icon"]
"""The image types a chat message may carry (the API's image guide lists these)."""

UploadMimeType = Literal[
    ImageMimeType,
    "image/webp",
    "audio/mp3",
    "audio/mpeg",
    "audio/wav",
    "audio/x-wav",
    "application/jsonl",
    "application/json",
    "text/plain",
    "video/mp4",
    "application/pdf",
]
"""The MIME types an upload may declare (the server may still refuse one that does
not suit the chosen purpose)."""

UploadPurpose = Literal[
    "attachment",
    "ephemeral_attachment",
    "image_generation_result",
    "messages_finetune",
    "messages_eval",
    "metadata",
]
"""What an uploaded file is for, such as ``"messages_finetune"`` for a fine-tuning
dataset in JSONL."""


@frozen(kw_only=True)
class Upload(WireObject):
    """An upload session, as ``uploads.create()`` returns it.

    The server echoes the declared file back together with the session id that
    every later call names.

    Attributes:
        id: the upload session id, such as ``"upload_7f3c2a"``.
        bytes: the declared size of the whole file.
        filename: the declared file name.
        mime_type: the declared MIME type.
        purpose: the declared purpose.
    """

    id: str
    bytes: int
    filename: str
    mime_type: str
    purpose: str


@frozen
class UploadStatus(WireObject):
    """How far an upload session has got, as ``uploads.get()`` returns it.

    Attributes:
        upload_id: the upload session id.
        offset: the zero-based position of the next byte the server expects,
            which is where an interrupted upload resumes; ``None`` when the
            server did not say.
    """

    upload_id: str
    offset: int | None = None


@frozen
class UploadPart(WireObject):
    """The server's answer to one part, as ``uploads.part()`` returns it.

    Attributes:
        upload_id: the upload session id.
        offset: the position of the next byte to send; ``None`` when the server
            did not say.
        file_id: the id of the finished file, set by the answer to the part that
            completes it and ``None`` before.
    """

    upload_id: str
    offset: int | None = None
    file_id: str | None = None
