"""What the commands of ``llama-models`` share: their signature and how they print."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient

    #: Where a command module adds its subcommands.
    Groups = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["Check", "Command", "print_json", "print_table"]

#: A command: it gets the client, the parsed arguments and stdout, and raises
#: `LlamaError` for anything that should be one line on stderr and exit status 1. It may
#: return an exit status of its own (``batch`` does, when some requests failed).
Command = Callable[["AsyncLlamaClient", argparse.Namespace, TextIO], Awaitable["int | None"]]

#: A command's check of its own flags, run before any client or request: it raises
#: `InvalidArgumentError` with a message that names the flag (see `_settings.FLAGS`), or
#: exits with its parser's usage error for flags that do not go together.
Check = Callable[[argparse.Namespace], None]


def print_json(data: object, out: TextIO) -> None:
    """Print *data* (already unstructured) as indented JSON."""
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_table(rows: Sequence[Sequence[str]], out: TextIO, *, header: bool = True) -> None:
    """Print *rows* in aligned columns, with a rule under the first row when *header*."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
        if header and index == 0:
            out.write("  ".join("-" * width for width in widths) + "\n")
