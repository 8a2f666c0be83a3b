"""``llama-models batch INPUT.jsonl -o OUTPUT.jsonl``: run a file of requests, write their results.

Each input line is one request in the batch-file shape, ``{"custom_id": ...,
"body": {...}}`` (``"method"`` and ``"url"`` optional); each output line one
result, ``{"custom_id": ..., "response": {...}}`` or ``{"custom_id": ...,
"error": {...}}``, in the order they end (input order with ``--ordered``).
Running the same command again resumes: the ids already in the output are
skipped. See `_batch_files` for how the files are read and written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .._batch import DEFAULT_CONCURRENCY
from .._config import validate_count
from ..errors import LlamaError
from ._batch_files import InputReader, finished_ids, open_output, result_line, write_line
from ._common import print_json
from ._idset import IdSet
from ._settings import FLAGS

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient
    from ..types.batch import BatchProgress
    from ._common import Groups

__all__ = ["SOME_FAILED", "add_command"]

#: The exit status of a run in which a request failed or an input line was skipped.
SOME_FAILED = 3


def add_command(groups: Groups, common: argparse.ArgumentParser) -> None:
    """Add ``batch`` to *groups*."""
    batch = groups.add_parser(
        "batch",
        help="run a JSON Lines file of requests, many at once, and write their results",
        description="Send every request of INPUT (one JSON object per line: "
        '{"custom_id": ..., "body": {...}}, with "url" "/v1/chat/completions" (the default) '
        'or "/v1/moderations") and append one line per result to OUTPUT: {"custom_id": ..., '
        '"response": {...}} or {"custom_id": ..., "error": {...}}. A line without a custom_id '
        "gets 'line-N', N its line number. Running the same command again resumes: ids already "
        "in OUTPUT are skipped. With --json, a summary object is printed on stdout at the "
        "end (succeeded, failed, bad_lines, duplicate_ids, already_done, seconds, "
        "requests_per_second, input_tokens, output_tokens).",
        epilog=f"Exit status: 0 when every request succeeded, {SOME_FAILED} when a request "
        "failed (its error is in OUTPUT) or an input line was skipped (reported on stderr), "
        "1 when the run could not go on, 130 on Ctrl-C (OUTPUT keeps every finished result).",
        parents=[common],
    )
    batch.add_argument("input", metavar="INPUT", help="the requests, a JSON Lines file")
    batch.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="the results file, appended to (and resumed from)",
    )
    batch.add_argument(
        FLAGS["concurrency"],
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"the most requests in flight at once (default: {DEFAULT_CONCURRENCY})",
    )
    batch.add_argument(
        "--ordered",
        action="store_true",
        help="write the results in input order rather than as they end",
    )
    batch.add_argument(
        FLAGS["requests_per_minute"],
        dest="requests_per_minute",
        type=int,
        metavar="N",
        help="your team's requests per minute for a model; without it, the limits the "
        "API's x-ratelimit-* headers announce (the requests wait for room either way, "
        "and a 429 pauses them all at once)",
    )
    batch.add_argument(
        FLAGS["tokens_per_minute"],
        dest="tokens_per_minute",
        type=int,
        metavar="N",
        help="your team's tokens per minute for a model (as --rpm)",
    )
    batch.set_defaults(command=_batch, check=_check, rate_limited=True)


def _check(args: argparse.Namespace) -> None:
    validate_count(args.concurrency, FLAGS["concurrency"], minimum=1)
    for name in ("requests_per_minute", "tokens_per_minute"):
        if getattr(args, name) is not None:
            validate_count(getattr(args, name), FLAGS[name], minimum=1)
    try:
        with open(args.input, "rb"):
            pass
    except OSError as exc:
        raise LlamaError(f"cannot read {args.input}: {exc.strerror}") from None


async def _batch(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> int:
    bar = _Bar(sys.stderr, draw=sys.stderr.isatty())
    with IdSet() as done, IdSet() as seen:  # on disk; their files go when they close
        finished_ids(args.output, done, bar.note)
        reader = InputReader(args.input, done, seen, bar.note)
        if bar.draw:
            lines = _count_lines(args.input) - len(done)
            bar.total = lambda: lines - reader.bad - reader.duplicates
        written = failed = 0
        output = open_output(args.output)
        try:
            with output:
                results = client.batch(
                    reader, concurrency=args.concurrency, ordered=args.ordered, on_progress=bar
                )
                async with results:
                    async for result in results:
                        write_line(output, result_line(result))
                        written += 1
                        failed += not result.ok
        finally:
            summary = bar.finish(
                {
                    "succeeded": written - failed,
                    "failed": failed,
                    "bad_lines": reader.bad,
                    "duplicate_ids": reader.duplicates,
                    "already_done": reader.resumed,
                }
            )
            if getattr(args, "json", False):
                print_json(summary, out)
    return SOME_FAILED if failed or reader.bad or reader.duplicates else 0


def _count_lines(path: str) -> int:
    with open(path, "rb") as file:
        return sum(1 for line in file if line.strip())


class _Bar:
    """The progress line on stderr (drawn when *draw*), the notes above it, the summary."""

    WIDTH = 24
    _EVERY = 0.1  # seconds between redraws: drawing each of 1,000 results a second costs

    def __init__(self, stream: TextIO, *, draw: bool) -> None:
        self._stream = stream
        self.draw = draw
        #: The number of requests to send, as far as is known; for drawing only.
        self.total: Callable[[], int] | None = None
        self._drawn_at = 0.0
        self._shown = False
        self._last: BatchProgress | None = None
        self._started = time.monotonic()

    def __call__(self, progress: BatchProgress) -> None:
        self._last = progress
        now = time.monotonic()
        if self.draw and now - self._drawn_at >= self._EVERY:
            self._drawn_at = now
            self._show(progress)

    def _show(self, progress: BatchProgress) -> None:
        total = self.total() if self.total is not None else None
        rate = progress.rate
        if total:
            filled = min(self.WIDTH, self.WIDTH * progress.done // total)
            bar = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {progress.done}/{total}"
            left = (total - progress.done) / rate if rate > 0 else None
        else:
            bar, left = f"{progress.done} done", None
        eta = f"  ETA {_duration(left)}" if left is not None else ""
        self._stream.write(
            f"\r\033[K{bar}  {progress.failed} failed  {rate:.1f}/s  tokens "
            f"{_count(progress.input_tokens)} in {_count(progress.output_tokens)} out{eta}"
        )
        self._stream.flush()
        self._shown = True

    def note(self, message: str) -> None:
        """Print one line of *message* on stderr, above the bar."""
        self._stream.write(("\r\033[K" if self._shown else "") + f"llama-models: {message}\n")
        if self._shown and self._last is not None:
            self._show(self._last)
        else:
            self._stream.flush()

    def finish(self, counts: dict[str, int]) -> dict[str, int | float]:
        """Leave the bar in its final state, print the summary line, and return the summary.

        The summary is *counts* with the seconds taken, the requests a second, and the
        tokens the answers reported.
        """
        last = self._last
        if self._shown and last is not None:
            self._show(last)
            self._stream.write("\n")
        elapsed = time.monotonic() - self._started
        done = last.done if last is not None else 0
        summary: dict[str, int | float] = {
            **counts,
            "seconds": round(elapsed, 3),
            "requests_per_second": round(done / elapsed, 1) if elapsed else 0.0,
            "input_tokens": last.input_tokens if last is not None else 0,
            "output_tokens": last.output_tokens if last is not None else 0,
        }
        said = ", ".join(f"{number} {name.replace('_', ' ')}" for name, number in counts.items())
        tokens = (
            f"; tokens {last.input_tokens} in, {last.output_tokens} out" if last is not None else ""
        )
        rate = f", {done / elapsed:.1f} requests/s" if last is not None and elapsed else ""
        self._stream.write(f"llama-models: batch: {said}; {elapsed:.1f} s{rate}{tokens}\n")
        self._stream.flush()
        return summary


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def _count(number: int) -> str:
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if number >= limit:
            return f"{number / limit:.1f}{suffix}"
    return str(number)
