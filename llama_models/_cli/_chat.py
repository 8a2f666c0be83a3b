"""``llama-models chat PROMPT``: send one message and print the reply, whole or streamed."""

from __future__ import annotations

import argparse
import functools
from typing import TYPE_CHECKING, Any, TextIO

from .._config import DEFAULT_IDLE_TIMEOUT, validate_idle_timeout
from ._common import print_json
from ._settings import FLAGS

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient
    from ._common import Groups

__all__ = ["DEFAULT_CHAT_MODEL", "add_command"]

DEFAULT_CHAT_MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"


def add_command(groups: Groups, common: argparse.ArgumentParser) -> None:
    """Add ``chat`` to *groups*."""
    chat = groups.add_parser(
        "chat",
        help="send one message and print the reply",
        description="Send one user message (after an optional system message) and print the "
        "reply's text, or with --json the whole chat completion.",
        parents=[common],
    )
    chat.add_argument("text", metavar="PROMPT", help="the user message; - reads it from stdin")
    chat.add_argument(
        FLAGS["model"],
        default=DEFAULT_CHAT_MODEL,
        metavar="MODEL",
        help=f"default: {DEFAULT_CHAT_MODEL}",
    )
    chat.add_argument("--system", metavar="TEXT", help="a system message to send first")
    chat.add_argument(
        "--stream",
        action="store_true",
        help="print the reply as it arrives (with --json: the whole completion at the end)",
    )
    chat.add_argument(
        FLAGS["idle_timeout"],
        type=float,
        metavar="SECONDS",
        help="with --stream: how long to wait for each next piece of the reply "
        f"(default: {DEFAULT_IDLE_TIMEOUT:g}; inf waits forever)",
    )
    chat.add_argument(
        FLAGS["max_completion_tokens"],
        type=int,
        metavar="N",
        help="the most tokens to generate (at least 1)",
    )
    chat.add_argument(FLAGS["temperature"], type=float, metavar="T", help="randomness, 0 to 1")
    chat.set_defaults(command=_chat, check=functools.partial(_check, chat))


def _check(chat: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    # The library refuses idle_timeout without stream=True; flags that do not go together
    # are a usage error (exit status 2), as --demo with --api-key is.
    if args.idle_timeout is not None and not args.stream:
        chat.error(
            f"argument {FLAGS['idle_timeout']}: applies to streams only; pass --stream or drop it"
        )
    # The request's own rules (one set of bounds), under the names of the flags.
    from .._chat_request import _number, check_model

    check_model(args.model, FLAGS["model"])
    if args.max_tokens is not None:
        _number(args.max_tokens, FLAGS["max_completion_tokens"], 1, None, integer=True)
    if args.temperature is not None:
        _number(args.temperature, FLAGS["temperature"], 0, 1)
    if args.idle_timeout is not None:
        validate_idle_timeout(args.idle_timeout, FLAGS["idle_timeout"], unlimited="inf")


async def _chat(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    messages: list[dict[str, Any]] = []
    if args.system is not None:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.text})
    if not args.stream:
        completion = await client.chat.completions.create(
            model=args.model,
            messages=messages,
            max_completion_tokens=args.max_tokens,
            temperature=args.temperature,
        )
        if args.json:
            print_json(completion.to_dict(), out)
        else:
            out.write(completion.text + "\n")
        return
    stream = await client.chat.completions.create(
        model=args.model,
        messages=messages,
        max_completion_tokens=args.max_tokens,
        temperature=args.temperature,
        stream=True,
        idle_timeout=args.idle_timeout,  # as given: inf (no limit) is not None (the default)
    )
    async with stream:
        if args.json:
            print_json((await stream.final_completion()).to_dict(), out)
            return
        line_ended = True
        try:
            async for text in stream.text_deltas():
                line_ended = text.endswith("\n")  # first: on 3.10 Ctrl-C may strike anywhere
                out.write(text)
                out.flush()
        except BaseException:  # an error or Ctrl-C: whatever follows starts on a fresh line
            if not line_ended:
                out.write("\n")
                out.flush()
            raise
        out.write("\n")  # the same output as without --stream
