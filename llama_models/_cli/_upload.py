"""``llama-models upload PATH --purpose P``: upload a file and print its file id."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO, get_args

from .._config import validate_count
from .._resources._source import guess_mime_type
from .._resources.uploads import DEFAULT_PART_SIZE
from ..errors import InvalidArgumentError
from ..types.uploads import UploadMimeType, UploadPurpose
from ._common import print_json
from ._settings import FLAGS

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient
    from ._common import Groups

__all__ = ["add_command"]


def add_command(groups: Groups, common: argparse.ArgumentParser) -> None:
    """Add ``upload`` to *groups*."""
    upload = groups.add_parser(
        "upload", help="upload a file and print its file id", parents=[common]
    )
    upload.add_argument("path", metavar="PATH", help="the file to upload")
    upload.add_argument(
        "--purpose",
        required=True,
        choices=get_args(UploadPurpose),
        metavar="PURPOSE",
        help=f"what the file is for: {', '.join(get_args(UploadPurpose))}",
    )
    upload.add_argument(
        FLAGS["mime_type"],
        choices=get_args(UploadMimeType),
        metavar="TYPE",
        help="the file's MIME type (default: guessed from the extension, e.g. .jsonl is "
        "application/jsonl)",
    )
    upload.add_argument(
        FLAGS["part_size"],
        type=int,
        default=DEFAULT_PART_SIZE,
        metavar="BYTES",
        help=f"the largest part sent in one request (default: {DEFAULT_PART_SIZE})",
    )
    upload.set_defaults(command=_upload, check=_check)


def _check(args: argparse.Namespace) -> None:
    validate_count(args.part_size, FLAGS["part_size"], minimum=1)
    filename = os.path.basename(args.path)
    if args.mime_type is None and guess_mime_type(filename) is None:
        raise InvalidArgumentError(
            f"cannot guess the MIME type of {filename!r} from its extension; pass "
            f"{FLAGS['mime_type']} TYPE, one of {', '.join(sorted(get_args(UploadMimeType)))}"
        )


async def _upload(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    progress = _Progress(sys.stderr, draw=sys.stderr.isatty())
    try:
        file_id = await client.uploads.upload_file(
            args.path,
            purpose=args.purpose,
            mime_type=args.mime_type,
            part_size=args.part_size,
            on_progress=progress,
        )
    finally:
        progress.close()
    if not args.json:
        out.write(file_id + "\n")
        return
    filename = os.path.basename(args.path)
    print_json(
        {
            "file_id": file_id,
            "filename": filename,
            "bytes": progress.total,
            "mime_type": args.mime_type or guess_mime_type(filename),
            "purpose": args.purpose,
        },
        out,
    )


class _Progress:
    """Keeps the file's size and, with *draw*, a bar like ``[###---]  50%  4.0 / 8.0 MiB``."""

    WIDTH = 30

    def __init__(self, stream: TextIO, *, draw: bool) -> None:
        self._stream = stream
        self._draw = draw
        self._drawn = False
        self.total = 0

    def __call__(self, sent: int, total: int) -> None:
        self.total = total
        if not self._draw:
            return
        filled = self.WIDTH * sent // total
        mib = 1024 * 1024
        self._stream.write(
            f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {100 * sent // total:3d}%  "
            f"{sent / mib:.1f} / {total / mib:.1f} MiB"
        )
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:  # keep the last state in view and leave the cursor on a fresh line
            self._stream.write("\n")
            self._stream.flush()
