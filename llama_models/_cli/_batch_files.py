"""The files of ``llama-models batch``: the requests read line by line, the results appended.

Nothing is loaded whole. The input is read one line at a time, as the batch
asks for requests; each result is written as one whole line and flushed, so an
interrupted run leaves a valid file, and a crash at worst a torn last line,
which the next run drops before it resumes. What is remembered per line is its
``custom_id``, to skip the ids already in the output and to report duplicates, in
an `IdSet` on disk, so memory stays flat however long the files are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

from .._batch_items import read_item
from ..errors import InvalidArgumentError, LlamaError
from ..types.batch import BatchRequest, BatchResult
from ._idset import IdSet

__all__ = [
    "InputReader",
    "derived_id",
    "finished_ids",
    "open_output",
    "result_line",
    "write_line",
]


def derived_id(number: int) -> str:
    """The ``custom_id`` of input line *number* (from 1) when it has none: ``line-12``."""
    return f"line-{number}"


def finished_ids(path: str, done: IdSet, note: Callable[[str], None]) -> None:
    """Add to *done* the ids of the results already in *path*, after dropping a torn last line.

    Raises:
        LlamaError: a line before the last is not a result line (not our file?).
    """
    if not os.path.exists(path):
        return
    with open(path, "r+b") as file:
        kept = 0
        for number, raw in enumerate(file, start=1):
            custom_id = _result_id(raw) if raw.endswith(b"\n") else None
            if custom_id is None:
                if file.read(1):  # not the last line: the file is not ours, or damaged
                    raise LlamaError(
                        f"{path} line {number} is not a result line; resume into a file this "
                        "command wrote, or choose another output file"
                    )
                file.truncate(kept)
                note(f"{path}: dropped a torn last line (line {number}) from an interrupted run")
                break
            done.add(custom_id)
            kept += len(raw)


def _encodable(text: str) -> bool:
    """Whether *text* can be written as UTF-8: no lone surrogate from a ``"\\ud800"`` escape."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _result_id(raw: bytes) -> str | None:
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    custom_id = line.get("custom_id") if isinstance(line, dict) else None
    return custom_id if isinstance(custom_id, str) else None


class InputReader:
    """The requests of a JSON Lines file, one per line, read as the batch asks for them.

    Blank lines are ignored. A line that is not a JSON object in the batch-file
    shape, or repeats an earlier ``custom_id``, is reported through *note* with
    its line number and skipped; so are the ids in *done*. The ids read are added
    to *seen*, which starts empty.
    """

    def __init__(self, path: str, done: IdSet, seen: IdSet, note: Callable[[str], None]) -> None:
        self._path = path
        self._done = done
        self._note = note
        self._seen = seen
        self.bad = 0
        self.duplicates = 0
        self.resumed = 0

    def __iter__(self) -> Iterator[BatchRequest]:
        with open(self._path, "rb") as file:
            for number, raw in enumerate(file, start=1):
                if raw.strip():
                    request = self._request(number, raw)
                    if request is not None:
                        yield request

    def _request(self, number: int, raw: bytes) -> BatchRequest | None:
        try:
            item = json.loads(raw)
        except ValueError as exc:
            self._bad(number, f"not JSON ({getattr(exc, 'msg', exc)})")
            return None
        if not isinstance(item, dict):
            self._bad(number, f"not a JSON object but {type(item).__name__}")
            return None
        if item.get("custom_id") is None:
            item["custom_id"] = derived_id(number)
        try:
            custom_id, url, body = read_item(item)
        except InvalidArgumentError as exc:
            self._bad(number, exc.message)
            return None
        assert custom_id is not None
        if not custom_id.isascii() and not _encodable(custom_id):
            self._bad(number, f"custom_id {custom_id!r} holds a lone surrogate, not text")
            return None
        if not self._seen.add(custom_id):
            self.duplicates += 1
            self._note(f"{self._path} line {number}: duplicate custom_id {custom_id!r}; skipped")
            return None
        if custom_id in self._done:
            self.resumed += 1
            return None
        return BatchRequest(body=body, custom_id=custom_id, url=url)

    def _bad(self, number: int, why: str) -> None:
        self.bad += 1
        self._note(f"{self._path} line {number}: {why}; skipped")


def result_line(result: BatchResult) -> bytes:
    """The output line of *result*: ``{"custom_id", "response"}`` or ``{"custom_id", "error"}``."""
    line: dict[str, Any] = {"custom_id": result.custom_id}
    error = result.error
    if error is None:
        assert result.response is not None
        line["response"] = result.response.to_dict()
    else:
        line["error"] = {
            "type": type(error).__name__,
            "status": getattr(error, "status_code", None),
            "message": error.message,
            "request_id": getattr(error, "request_id", None),
        }
    return json.dumps(line, ensure_ascii=False).encode() + b"\n"


def open_output(path: str) -> IO[bytes]:
    """*path* opened for appending results (the command's files are plain blocking I/O).

    Raises:
        LlamaError: it cannot be opened.
    """
    try:
        return open(path, "ab")
    except OSError as exc:
        raise LlamaError(f"cannot write {path}: {exc.strerror}") from None


def write_line(file: IO[bytes], line: bytes) -> None:
    """Write *line* whole and flush it, so an interruption never leaves half of it behind."""
    file.write(line)
    file.flush()
