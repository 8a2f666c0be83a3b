"""Finding the examples in the README and docs/, for the tests that run them and type-check them.

Three kinds of fenced block are examples; everything else (``text`` output, ``sh`` install
and development commands, ``toml``) is shown, not run:

- ``python``: a script. A block that defines ``test_`` functions is a pytest module; a
  block with a top-level ``await`` is a notebook cell, run inside a running event loop.
- ``console``: a terminal transcript of ``$ llama-models ...`` commands and their output.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(python|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples(language: str) -> list[tuple[str, str]]:
    """``(name, code)`` of every ``language`` block, named ``document#number``."""
    found = []
    for document in DOCUMENTS:
        matches = [m for m in FENCE.finditer(document.read_text()) if m.group(1) == language]
        for number, match in enumerate(matches, start=1):
            found.append((f"{document.relative_to(ROOT)}#{number}", match.group(2)))
    return found


def is_cell(code: str) -> bool:
    """Whether the block has a top-level ``await``, like a notebook cell.

    ``ast.parse`` accepts a top-level ``await``; only the compiler tells, by marking the
    code object of such a block as a coroutine.
    """
    code_object = compile(code, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    return bool(code_object.co_flags & inspect.CO_COROUTINE)


def is_test_module(code: str) -> bool:
    """Whether the block is a pytest module: it defines ``test_`` functions."""
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
        for node in ast.parse(code).body
    )
