"""A 429 storm: many concurrent chat completions against a fake server that enforces a limit.

For each limit (10, 60 and 3,000 requests per minute by default), 200 asyncio tasks each make
one chat completion through one `AsyncLlamaClient`, all started at once, against the
project's fake server enforcing that limit per model with a sliding window
(`llama_models.testing.RateLimitRule`). The minute is scaled down: ``--window 3`` means "a
minute is 3 s", so 10 RPM is 10 requests in any 3 s. Each limit runs three times: with the
client's default settings (retries with backoff, no client-side limiter); with the
client-side limiter told the limit, ``RateLimit(requests_per_minute=..., window=...)``; and
with the limiter told nothing, ``RateLimit(window=...)``, learning the limit from the
``x-ratelimit-*`` headers ("adaptive").

    python bench/ratelimit.py [--window 3] [--calls 200] [--limits 10,60,3000]
                              [--max-retries N] [--only without|with|adaptive] [--results PATH]

Reported per scenario: the 429s the server sent, the calls that succeeded and that failed
(by error type), the wall time in windows, and the useful throughput: successes per window
the run reached into (a run of w windows reaches into floor(w) + 1 of them), and that as a
fraction of the limit, which is at most 1. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from llama_models import AsyncLlamaClient, RateLimit
from llama_models.testing import FakeLlamaAPI, RateLimitRule

MODEL = "Llama-3.3-70B-Instruct"
MESSAGES = [{"role": "user", "content": "Hello"}]
RESULTS = Path(__file__).resolve().parent / "results" / "ratelimit.md"
HALVES = ("without", "with", "adaptive")
LABELS = {
    "without": "without limiter",
    "with": "limiter, told the limit",
    "adaptive": "limiter, adaptive",
}


@dataclass(frozen=True)
class Outcome:
    """What one scenario did, as the server and the client saw it."""

    limit: int
    half: str
    calls: int
    rejected: int  # 429s the server sent
    admitted: int
    succeeded: int
    failures: dict[str, int]
    seconds: float
    window: float

    @property
    def windows(self) -> float:
        return self.seconds / self.window

    @property
    def per_window(self) -> float:
        """Successes per window the run reached into, which the limit bounds.

        A run of ``w`` windows from its first call reaches into ``floor(w) + 1`` windows
        back to back, and a sliding window admits at most the limit in each: so this is at
        most the limit, and reaches it only when every window is used to the full.
        """
        return self.succeeded / (math.floor(self.windows) + 1)

    def row(self) -> str:
        failed = sum(self.failures.values())
        kinds = ", ".join(f"{n} {name}" for name, n in sorted(self.failures.items()))
        failures = f"{failed} ({kinds})" if failed else "0"
        return (
            f"| {self.limit:,} | {LABELS[self.half]} | {self.rejected:,} | {self.succeeded} "
            f"| {failures} | {self.windows:.1f} | {self.per_window:.1f} "
            f"| {self.per_window / self.limit:.2f} |"
        )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def storm(client: AsyncLlamaClient, calls: int) -> tuple[int, dict[str, int]]:
    """Start `calls` chat completions at once; count successes and failures by error type."""

    async def one() -> None:
        completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        if completion.text != "You said: Hello":
            raise AssertionError(f"unexpected answer {completion.text!r}")

    results = await asyncio.gather(*(one() for _ in range(calls)), return_exceptions=True)
    failures = collections.Counter(type(r).__name__ for r in results if r is not None)
    return calls - sum(failures.values()), dict(failures)


def run_scenario(limit: int, half: str, args: argparse.Namespace) -> Outcome:
    """One limit, one half: a fresh server and a fresh client."""
    window: float = args.window
    # Long enough for the limiter to space all calls out, whatever counts against it.
    timeout = max(120.0, 2 * window * (args.calls / limit + 1) + 30.0)
    options: dict[str, Any] = {"timeout": timeout}
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    if half == "with":
        options["rate_limit"] = RateLimit(requests_per_minute=limit, window=window)
    elif half == "adaptive":
        options["rate_limit"] = RateLimit(window=window)
    rule = RateLimitRule(requests=limit, window=window)
    with FakeLlamaAPI(rate_limit=rule) as api:

        async def main() -> tuple[int, dict[str, int], float]:
            async with AsyncLlamaClient(
                api_key=api.api_key, base_url=api.base_url, **options
            ) as client:
                started = time.perf_counter()
                succeeded, failures = await storm(client, args.calls)
                return succeeded, failures, time.perf_counter() - started

        succeeded, failures, seconds = asyncio.run(main())
        stats = api.rate_limit_stats.get(MODEL)
    rejected = stats.rejected if stats is not None else 0
    admitted = stats.admitted if stats is not None else 0
    return Outcome(
        limit, half, args.calls, rejected, admitted, succeeded, failures, seconds, window
    )


def _limits(text: str) -> list[int]:
    try:
        limits = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text}"
        ) from None
    if not limits or min(limits) < 1:
        raise argparse.ArgumentTypeError("every limit must be >= 1")
    return limits


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--window", type=float, default=3.0, help='seconds in "a minute" (default 3)'
    )
    parser.add_argument("--calls", type=int, default=200, help="concurrent calls (default 200)")
    parser.add_argument(
        "--limits", type=_limits, default=[10, 60, 3000], help="requests per minute, e.g. 10,60"
    )
    parser.add_argument(
        "--max-retries", type=int, default=None, help="the clients' max_retries (default: theirs)"
    )
    parser.add_argument("--only", choices=HALVES, help="run one half only")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help=f"where to write the table ({RESULTS.name})"
    )
    args = parser.parse_args(argv)
    if not (math.isfinite(args.window) and args.window > 0):
        parser.error("--window must be a finite number of seconds > 0")
    if args.calls < 1:
        parser.error("--calls must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    window = args.window
    import llama_models

    retries = "default" if args.max_retries is None else str(args.max_retries)
    lines = [
        f"Python {platform.python_version()}, aiohttp {version('aiohttp')}; "
        f"llama_models from {Path(llama_models.__file__).parent}",
        f"A minute is {window:g} s: a limit of N RPM is N requests per model in any {window:g} s "
        f"(sliding window; the token limit, 2,500,000, is never reached). {args.calls} concurrent chat completions per "
        f"scenario; client max_retries: {retries}.",
        "",
        "| RPM | client | 429s sent | succeeded | failed | wall (windows) "
        "| successes/window | of the limit |",
        "|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for half in HALVES:
        if args.only not in (None, half):
            continue
        for limit in args.limits:
            progress(f"[{limit} RPM, {LABELS[half]}] {args.calls} calls ...")
            outcome = run_scenario(limit, half, args)
            progress(f"[{limit} RPM, {LABELS[half]}] done in {outcome.seconds:.1f} s")
            lines.append(outcome.row())
    report = "\n".join(lines)
    print(report)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
