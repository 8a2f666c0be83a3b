"""Upload arguments and the local file behind ``uploads.upload_file``, checked up front.

Every check that can fail runs before the first request, so a bad argument or
path never leaves a half-created upload session behind. Parts are read off the
event loop (in the default executor) because one part can be megabytes of disk
I/O.
"""

from __future__ import annotations

import os
import stat
from typing import IO, cast, get_args

from ..errors import InvalidArgumentError
from ..types.uploads import UploadMimeType, UploadPurpose

__all__ = [
    "MIME_TYPES",
    "PURPOSES",
    "FileSource",
    "check_choice",
    "choose_mime_type",
    "guess_mime_type",
]

MIME_TYPES: frozenset[str] = frozenset(get_args(UploadMimeType))
PURPOSES: frozenset[str] = frozenset(get_args(UploadPurpose))

# Only types the API accepts; mimetypes.guess_type knows neither .jsonl nor every
# platform's idea of .wav, and would guess types the API refuses anyway.
_BY_EXTENSION: dict[str, UploadMimeType] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".jsonl": "application/jsonl",
    ".json": "application/json",
    ".txt": "text/plain",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
}


def guess_mime_type(filename: str) -> UploadMimeType | None:
    """The upload MIME type for *filename*'s extension (any case), or ``None``."""
    return _BY_EXTENSION.get(os.path.splitext(filename)[1].lower())


def choose_mime_type(mime_type: object, filename: str) -> UploadMimeType:
    """*mime_type*, checked, or when it is ``None`` the guess from *filename*'s extension."""
    if mime_type is None:
        guessed = guess_mime_type(filename)
        if guessed is None:
            raise InvalidArgumentError(
                f"mime_type: cannot guess the MIME type of {filename!r} from its extension; "
                f"pass mime_type= one of {_listing(MIME_TYPES)}"
            )
        return guessed
    check_choice(mime_type, MIME_TYPES, "mime_type")
    return cast(UploadMimeType, mime_type)


def check_choice(value: object, allowed: frozenset[str], name: str) -> None:
    """Refuse *value* unless it is one of *allowed*."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidArgumentError(f"{name} must be one of {_listing(allowed)}, not {value!r}")


def _listing(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


class FileSource:
    """An open regular file of known, non-zero size, read part by part.

    Each read first checks that the file still has the size it had when it was
    opened: the upload session declared that size, and a part read from a file
    that grew or shrank would make the server's copy silently wrong.
    """

    def __init__(self, path: object) -> None:
        try:
            name = os.fspath(path)  # type: ignore[call-overload]
        except TypeError:
            raise InvalidArgumentError(
                f"path must be a str or os.PathLike, not {type(path).__name__}"
            ) from None
        if not isinstance(name, str):
            name = os.fsdecode(name)
        self.path = name
        try:
            # stat before open: opening a FIFO for reading would block until a writer came.
            self._check_regular(os.stat(name))
            self._file: IO[bytes] = open(name, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise self._unusable(exc) from exc
        try:
            self.size = self._check_regular(os.fstat(self._file.fileno())).st_size
            if self.size == 0:
                raise InvalidArgumentError(
                    f"path: {name!r} is empty; an upload needs at least 1 byte"
                )
        except BaseException as exc:
            self._file.close()
            if isinstance(exc, OSError):
                raise self._unusable(exc) from exc
            raise

    def _check_regular(self, info: os.stat_result) -> os.stat_result:
        if not stat.S_ISREG(info.st_mode):
            raise InvalidArgumentError(f"path: {self.path!r} is not a regular file")
        return info

    def _unusable(self, exc: OSError) -> InvalidArgumentError:
        if isinstance(exc, FileNotFoundError):
            return InvalidArgumentError(f"path: no such file: {self.path!r}")
        return InvalidArgumentError(f"path: cannot read {self.path!r}: {exc.strerror or exc}")

    @property
    def name(self) -> str:
        """The file's own name, without its directory."""
        return os.path.basename(self.path)

    async def read(self, offset: int, length: int) -> bytes:
        """Read *length* bytes at *offset* in a worker thread.

        Raises `InvalidArgumentError` if the file no longer has its original size.
        """
        import asyncio  # not at import time: `import llama_models` stays free of asyncio

        return await asyncio.to_thread(self._read, offset, length)

    def _read(self, offset: int, length: int) -> bytes:
        try:
            size = os.fstat(self._file.fileno()).st_size
            if size == self.size:
                self._file.seek(offset)
                data = self._file.read(length)
                if len(data) == length:
                    return data
                size = os.fstat(self._file.fileno()).st_size  # it shrank while we read
        except OSError as exc:
            raise self._unusable(exc) from exc
        raise InvalidArgumentError(
            f"path: {self.path!r} changed size during the upload "
            f"({self.size} bytes when it started, {size} now); upload it again"
        )

    def close(self) -> None:
        """Close the file."""
        self._file.close()
