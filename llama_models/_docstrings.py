"""Read the prose and the parameter notes out of a docstring.

`parse_docstring` understands the three layouts Sphinx reads:

* Google: an ``Args:`` (``Arguments:``, ``Parameters:``, ``Attributes:`` ...) line, then
  indented ``name (type): text`` or ``name: text`` entries whose text may go on over
  lines indented further;
* NumPy: ``Parameters`` or ``Attributes`` underlined with dashes, then ``name : type``
  lines with their text indented below;
* reST: ``:param name: text``, ``:param type name: text``, ``:ivar name: text`` and
  ``:cvar name: text`` fields.

Other sections (``Returns``, ``Raises``, ``Examples`` ...) are skipped. The JSON Schema
helpers in `llama_models._schema` use it to describe properties.
"""

from __future__ import annotations

import inspect
import re
from typing import NamedTuple

__all__ = ["Docstring", "parse_docstring"]

# The section titles of Sphinx's napoleon extension; only the first group names things.
_NAMING_SECTIONS = frozenset(
    {
        "args",
        "arguments",
        "attributes",
        "keyword args",
        "keyword arguments",
        "other parameters",
        "parameters",
        "params",
    }
)
_SECTIONS = _NAMING_SECTIONS | {
    "attention",
    "caution",
    "danger",
    "error",
    "example",
    "examples",
    "hint",
    "important",
    "methods",
    "note",
    "notes",
    "raise",
    "raises",
    "references",
    "return",
    "returns",
    "see also",
    "tip",
    "todo",
    "warning",
    "warnings",
    "warns",
    "yield",
    "yields",
}
_REST_NAMING_FIELDS = frozenset(
    {"param", "parameter", "arg", "argument", "key", "keyword", "ivar", "cvar", "var"}
)

_GOOGLE_HEADER = re.compile(r"([A-Za-z][A-Za-z ]*?)\s*:")
_UNDERLINE = re.compile(r"-{3,}")
# ``name (type): text``; the lazy type group still spans nested brackets like dict(str, int).
_GOOGLE_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\(.*?\))?\s*:\s*(.*)")
# ``x : int`` or ``x, y : float`` or a bare ``x``.
_NUMPY_ENTRY = re.compile(r"(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?")
# ``:param int x: text``: the words between the field kind and the colon end with the name.
_REST_FIELD = re.compile(r":(\w+)((?:\s+[^:]+?)?)\s*:(?:\s+(.*)|$)")


class Docstring(NamedTuple):
    """What `parse_docstring` found in a docstring."""

    #: The text before the first section (summary and following paragraphs), or ``None``.
    description: str | None
    #: Each documented parameter or attribute mapped to its text, on one line.
    fields: dict[str, str]


def parse_docstring(doc: str | None) -> Docstring:
    """Split *doc* into its description and its parameter and attribute notes.

    The docstring is cleaned with `inspect.cleandoc` first. The description keeps its line
    breaks; each field's text is joined into one line with single spaces. When a name is
    documented twice (say under ``Args:`` and ``Attributes:``), the first text wins.
    """
    if not doc:
        return Docstring(None, {})
    lines = inspect.cleandoc(doc).splitlines()
    fields: dict[str, str] = {}
    description: list[str] = []
    in_description = True
    i = 0
    while i < len(lines):
        line = lines[i]
        if line[:1].isspace() or not line:
            if in_description:
                description.append(line)
            i += 1
        elif _is_numpy_header(lines, i):
            in_description = False
            names = lines[i].strip().lower() in _NAMING_SECTIONS
            i = _read_numpy_section(lines, i + 2, fields if names else None)
        elif (m := _GOOGLE_HEADER.fullmatch(line.rstrip())) and m[1].lower() in _SECTIONS:
            in_description = False
            names = m[1].lower() in _NAMING_SECTIONS
            i = _read_google_section(lines, i + 1, fields if names else None)
        elif m := _REST_FIELD.match(line):
            in_description = False
            i = _read_rest_field(lines, i, m, fields)
        else:
            if in_description:
                description.append(line)
            i += 1
    text = "\n".join(description).strip()
    return Docstring(text or None, fields)


def _is_numpy_header(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and lines[i].strip().lower() in _SECTIONS
        and _UNDERLINE.fullmatch(lines[i + 1].strip()) is not None
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _keep(fields: dict[str, str], names: list[str], parts: list[str]) -> None:
    text = " ".join(part for part in parts if part)
    if text:
        for name in names:
            fields.setdefault(name, text)


def _read_google_section(lines: list[str], i: int, fields: dict[str, str] | None) -> int:
    """Read entries from line *i* to the next unindented line; return its index."""
    entry_indent: int | None = None
    names: list[str] = []
    parts: list[str] = []
    while i < len(lines):
        line = lines[i]
        if line.strip():
            indent = _indent(line)
            if indent == 0:
                break
            if entry_indent is None:
                entry_indent = indent
            if indent <= entry_indent:
                if fields is not None:
                    _keep(fields, names, parts)
                m = _GOOGLE_ENTRY.fullmatch(line.strip())
                names, parts = ([m[1]], [m[2]]) if m else ([], [])
            else:
                parts.append(line.strip())
        i += 1
    if fields is not None:
        _keep(fields, names, parts)
    return i


def _read_numpy_section(lines: list[str], i: int, fields: dict[str, str] | None) -> int:
    """Read entries from line *i* to the next NumPy section title; return its index."""
    names: list[str] = []
    parts: list[str] = []
    while i < len(lines):
        line = lines[i]
        if line.strip():
            if _indent(line) == 0:
                if _is_numpy_header(lines, i) or _REST_FIELD.match(line):
                    break
                if fields is not None:
                    _keep(fields, names, parts)
                m = _NUMPY_ENTRY.fullmatch(line.strip())
                names = [name.strip().lstrip("*") for name in m[1].split(",")] if m else []
                parts = []
            else:
                parts.append(line.strip())
        i += 1
    if fields is not None:
        _keep(fields, names, parts)
    return i


def _read_rest_field(lines: list[str], i: int, match: re.Match[str], fields: dict[str, str]) -> int:
    """Read the field that starts on line *i* and its indented lines; return the next index."""
    parts = [match[3] or ""]
    i += 1
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > 0):
        parts.append(lines[i].strip())
        i += 1
    words = match[2].split()
    if match[1] in _REST_NAMING_FIELDS and words:
        _keep(fields, [words[-1].lstrip("*")], parts)
    return i
