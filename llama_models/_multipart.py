"""``multipart/form-data`` bodies with one file field, as a pure function (RFC 7578).

An upload part is sent as one file field named ``data``. aiohttp's own
``FormData`` would do, but building the bytes here keeps the transport ignorant
of uploads and makes the exact wire format testable without a server.
"""

from __future__ import annotations

import os

__all__ = ["file_field"]

# Quotes and line breaks in a name would end the header value early; browsers
# percent-encode exactly these three (WHATWG HTML, "multipart/form-data encoding").
_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})


def file_field(
    name: str,
    data: bytes,
    *,
    filename: str = "upload",
    content_type: str = "application/octet-stream",
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """Encode *data* as the only field of a form; return the body and its Content-Type.

    A random *boundary* is chosen when none is given. A boundary that occurs in
    *data* would cut the field short, so a random one is drawn again (a 2**-128
    chance) and a given one is refused with `ValueError`.
    """
    while True:
        chosen = boundary if boundary is not None else os.urandom(16).hex()
        delimiter = b"--" + chosen.encode("ascii")
        if delimiter not in data:
            break
        if boundary is not None:
            raise ValueError(f"the boundary {boundary!r} occurs in the data")
    disposition = (
        f'Content-Disposition: form-data; name="{name.translate(_ESCAPES)}"; '
        f'filename="{filename.translate(_ESCAPES)}"'
    )
    body = b"".join(
        (
            delimiter,
            b"\r\n",
            disposition.encode(),
            b"\r\nContent-Type: ",
            content_type.encode("ascii"),
            b"\r\n\r\n",
            data,
            b"\r\n",
            delimiter,
            b"--\r\n",
        )
    )
    return body, f"multipart/form-data; boundary={chosen}"
