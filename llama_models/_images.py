"""Image content helpers: recognise an image, check the API's limits, build a ``data:`` URL."""

from __future__ import annotations

import base64
import os
import typing
from pathlib import Path

from ._resources._source import guess_mime_type
from .errors import InvalidArgumentError
from .types.uploads import ImageMimeType

#: The image types the API accepts (its image guide lists these).
IMAGE_MIME_TYPES: frozenset[str] = frozenset(typing.get_args(ImageMimeType))
#: The largest image the API accepts, 25 MB.
MAX_IMAGE_BYTES = 25_000_000
#: How many images one request may carry.
MAX_IMAGES_PER_REQUEST = 9

# The first bytes of each kind of image, and the file extension that names its type.
_MAGIC = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"\x00\x00\x01\x00", ".ico"),
)
_ACCEPTED = f"JPEG, PNG, GIF or ICO ({', '.join(typing.get_args(ImageMimeType))})"


def _image_type(filename: str) -> str | None:
    """The image type the extension of *filename* names, if it is an image the API accepts."""
    mime = guess_mime_type(filename)
    return mime if mime in IMAGE_MIME_TYPES else None


def sniff(data: bytes) -> str | None:
    """The image type announced by the first bytes of *data*, if it is one we know."""
    for magic, extension in _MAGIC:
        if data.startswith(magic):
            return _image_type(f"image{extension}")
    return None


def read_image(path: str | os.PathLike[str], mime_type: str | None) -> tuple[bytes, str]:
    """Read an image file after checking its size; return its bytes and type."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise InvalidArgumentError(f"image {str(file)!r} is not a regular file")
        if size > MAX_IMAGE_BYTES:
            raise InvalidArgumentError(_too_large(size, repr(str(file))))
        data = file.read_bytes()
    except FileNotFoundError:
        raise InvalidArgumentError(f"image {str(file)!r} does not exist") from None
    except OSError as exc:
        raise InvalidArgumentError(f"image {str(file)!r} cannot be read: {exc.strerror}") from None
    if mime_type is None:
        mime_type = sniff(data) or _image_type(file.name)
        if mime_type is None:
            raise InvalidArgumentError(
                f"image {str(file)!r} is not a recognised image; the API accepts {_ACCEPTED}"
            )
    return data, mime_type


def data_url(data: bytes, mime_type: str | None) -> str:
    """``data:<type>;base64,<data>`` after checking type and size."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(f"image data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise InvalidArgumentError("image data is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidArgumentError(_too_large(len(data), "the image"))
    if mime_type is None:
        mime_type = sniff(data)
        if mime_type is None:
            raise InvalidArgumentError(
                f"the image type cannot be recognised from its bytes; pass mime_type "
                f"(the API accepts {_ACCEPTED})"
            )
    mime_type = mime_type.lower()
    if mime_type not in IMAGE_MIME_TYPES:
        raise InvalidArgumentError(
            f"image type {mime_type!r} is not accepted; the API accepts {_ACCEPTED}"
        )
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def _too_large(size: int, what: str) -> str:
    return f"{what} is {size:,} bytes; the API accepts images of at most {MAX_IMAGE_BYTES:,} bytes (25 MB)"
