"""The ``llama-models`` command line.

``llama-models models list`` and ``llama-models models get ID`` print a table, or
the API's JSON with ``--json``; ``llama-models upload PATH --purpose P`` uploads a
file and prints its file id, with a progress bar on stderr when that is a
terminal. ``--demo`` answers from the built-in fake Llama API, in process, so the
command works with no key and no network. Failures print one line on stderr and
exit with status 1 (2 for usage mistakes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO, get_args

from ._client import AsyncLlamaClient
from ._converter import unstructure
from ._resources._source import guess_mime_type
from ._resources.uploads import DEFAULT_PART_SIZE
from .errors import LlamaError
from .types.uploads import UploadMimeType, UploadPurpose

# Shared options are SUPPRESSed so that they may stand before or after a subcommand;
# these are their values when given nowhere.
_DEFAULTS = {"api_key": None, "base_url": None, "timeout": 60.0, "json": False, "demo": False}

Command = Callable[[AsyncLlamaClient, argparse.Namespace, TextIO], Awaitable[None]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (``sys.argv[1:]`` when ``None``); return the exit status."""
    args = _parser().parse_args(argv)
    for name, default in _DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        asyncio.run(_run(args, sys.stdout))
    except LlamaError as exc:
        print(f"llama-models: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


async def _run(args: argparse.Namespace, out: TextIO) -> None:
    command: Command = args.command
    if args.demo:
        from .testing import FakeLlamaAPI

        async with FakeLlamaAPI() as server:
            if sys.stderr.isatty():  # a human should know; a script's stderr stays clean
                print("(demo: answers come from the built-in fake Llama API)", file=sys.stderr)
            async with AsyncLlamaClient(
                api_key=server.api_key, base_url=server.base_url, timeout=args.timeout
            ) as client:
                await command(client, args, out)
        return
    async with AsyncLlamaClient(
        api_key=args.api_key, base_url=args.base_url, timeout=args.timeout
    ) as client:
        await command(client, args, out)


async def _models_list(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    models = await client.models.list()
    if args.json:
        _print_json(unstructure(models), out)
        return
    rows = [("ID", "CREATED", "OWNER")]
    rows += [(m.id, m.created_at.strftime("%Y-%m-%d"), m.owned_by) for m in models]
    _print_table(rows, out)


async def _models_get(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    model = await client.models.retrieve(args.model_id)
    if args.json:
        _print_json(unstructure(model), out)
        return
    created = model.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    _print_table(
        [("id", model.id), ("created", created), ("owned_by", model.owned_by)], out, header=False
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
    _print_json(
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


def _print_json(data: object, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _print_table(rows: Sequence[Sequence[str]], out: TextIO, *, header: bool = True) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
        if header and index == 0:
            out.write("  ".join("-" * width for width in widths) + "\n")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="API key (default: $LLAMA_API_KEY)"
    )
    common.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,
        help="API root (default: $LLAMA_API_BASE_URL or https://api.llama.com/v1)",
    )
    common.add_argument(
        "--timeout", type=float, default=argparse.SUPPRESS, help="seconds per call (default: 60)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON"
    )
    common.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="answer from a built-in fake server: no key, no network",
    )

    parser = argparse.ArgumentParser(
        prog="llama-models",
        description="Talk to Meta's hosted Llama API from the command line.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    groups = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    models = groups.add_parser("models", help="list and inspect models", parents=[common])
    actions = models.add_subparsers(title="model commands", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the available models", parents=[common])
    listing.set_defaults(command=_models_list)
    getting = actions.add_parser("get", help="show one model", parents=[common])
    getting.add_argument("model_id", metavar="ID", help="the model id")
    getting.set_defaults(command=_models_get)

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
        "--mime-type",
        choices=get_args(UploadMimeType),
        metavar="TYPE",
        help="the file's MIME type (default: guessed from the extension, e.g. .jsonl is "
        "application/jsonl)",
    )
    upload.add_argument(
        "--part-size",
        type=int,
        default=DEFAULT_PART_SIZE,
        metavar="BYTES",
        help=f"the largest part sent in one request (default: {DEFAULT_PART_SIZE})",
    )
    upload.set_defaults(command=_upload)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
