"""The ``llama-models`` command line; each command group lives in a module of its own.

``llama-models models list`` and ``llama-models models get ID`` print a table, or
the API's JSON with ``--json``; ``llama-models chat PROMPT`` prints the reply (as it
arrives with ``--stream``); ``llama-models moderate TEXT`` prints Llama Guard's
verdict; ``llama-models upload PATH --purpose P`` uploads a file and prints its file
id, with a progress bar on stderr when that is a terminal; ``llama-models batch INPUT -o
OUTPUT`` runs a JSON Lines file of requests, many at once (exit status 3 when one failed).
``--demo`` answers from the built-in fake Llama API, in process, so the command works with
no key and no network. Failures print one line on stderr and exit with status 1 (2 for usage
mistakes); Ctrl-C exits with status 130. Every flag is checked before anything is
sent, and a message names the flag or environment variable to change, never a
Python argument.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .._client import AsyncLlamaClient
from ..errors import LlamaError
from . import _batch, _chat, _models, _moderate, _settings, _upload

if TYPE_CHECKING:
    from ._common import Check, Command

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (``sys.argv[1:]`` when ``None``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    _settings.refuse_demo_mix(parser, args)
    _settings.fill_defaults(args)
    try:
        check: Check | None = getattr(args, "check", None)
        if check is not None:
            check(args)
        settings = _settings.client_settings(args, os.environ)
        if getattr(args, "text", None) == "-":  # chat's PROMPT or moderate's TEXT
            args.text = _read_stdin()
        status = asyncio.run(_run(args, settings, sys.stdout))
    except LlamaError as exc:
        print(f"llama-models: error: {_settings.error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status or 0


def _read_stdin() -> str:
    """All of stdin, without its trailing newlines (as the shell's ``$(cat)`` has it)."""
    try:
        return sys.stdin.read().rstrip("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise LlamaError(f"cannot read stdin: {exc}") from None


async def _run(args: argparse.Namespace, settings: dict[str, Any], out: TextIO) -> int | None:
    command: Command = args.command
    if args.demo:
        from ..testing import FakeLlamaAPI

        async with FakeLlamaAPI() as server:
            if sys.stderr.isatty():  # a human should know; a script's stderr stays clean
                print("(demo: answers come from the built-in fake Llama API)", file=sys.stderr)
            async with AsyncLlamaClient(
                api_key=server.api_key, base_url=server.base_url, **settings
            ) as client:
                return await command(client, args, out)
    async with AsyncLlamaClient(**settings) as client:
        return await command(client, args, out)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _settings.add_shared_options(common)

    parser = argparse.ArgumentParser(
        prog="llama-models",
        description="Talk to Meta's hosted Llama API from the command line.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    groups = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    _models.add_commands(groups, common)
    _chat.add_command(groups, common)
    _moderate.add_command(groups, common)
    _upload.add_command(groups, common)
    _batch.add_command(groups, common)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__
