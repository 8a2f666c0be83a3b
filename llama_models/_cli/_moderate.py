"""``llama-models moderate TEXT``: ask Llama Guard whether a text is flagged."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from ._common import print_json
from ._settings import FLAGS

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient
    from ..types.moderations import Moderation
    from ._common import Groups

__all__ = ["add_command", "verdict_line"]


def add_command(groups: Groups, common: argparse.ArgumentParser) -> None:
    """Add ``moderate`` to *groups*."""
    moderate = groups.add_parser(
        "moderate",
        help="ask Llama Guard whether a text is flagged",
        description="Ask Llama Guard about TEXT, sent as one user message. Prints one line: "
        "'flagged: CATEGORIES (MODEL)' or 'not flagged (MODEL)'.",
        epilog="The exit status is 0 whether or not the text is flagged; a script decides "
        'from the "flagged" fields of the --json output.',
        parents=[common],
    )
    moderate.add_argument("text", metavar="TEXT", help="the text to classify; - reads stdin")
    moderate.add_argument(
        FLAGS["model"], metavar="MODEL", help="the safety model (default: the API's, Llama-Guard)"
    )
    moderate.set_defaults(command=_moderate, check=_check)


def _check(args: argparse.Namespace) -> None:
    if args.model is not None:
        from .._chat_request import check_model

        check_model(args.model, FLAGS["model"])


async def _moderate(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    verdict = await client.moderations.create(
        messages=[{"role": "user", "content": args.text}], model=args.model
    )
    if args.json:
        print_json(verdict.to_dict(), out)
    else:
        out.write(verdict_line(verdict) + "\n")


def verdict_line(verdict: Moderation) -> str:
    """``flagged: privacy, self-harm (Llama-Guard)``, ``not flagged (Llama-Guard)``."""
    if not verdict.flagged:
        return f"not flagged ({verdict.model})"
    categories = ", ".join(verdict.flagged_categories)
    return (
        f"flagged: {categories} ({verdict.model})" if categories else f"flagged ({verdict.model})"
    )
