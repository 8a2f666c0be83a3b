"""Benchmark llama_models against raw aiohttp (and llama-api-client) on a local fake server.

Every result is a ratio to a raw-aiohttp baseline timed in the same run: the
contenders take turns, round after round, and each reports its median. The SDK
runs with the standard library's JSON codec, and, where orjson is installed, in
``[fast]`` rows with orjson's. See bench/README.md for what each measurement means.

    python bench/run.py [--quick] [--rounds N]
                        [--only {latency,throughput,decode,chat,stream,import,first-call}]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

from _chat_contenders import (
    CHAT_REPLY,
    official_chat_async,
    official_chat_sync,
    raw_chat,
    sdk_chat_async,
    sdk_chat_async_fast,
    sdk_chat_async_otel,
    sdk_chat_blocking,
    telemetry_version,
)
from _contenders import (
    Contender,
    Job,
    official_async,
    official_sync,
    official_version,
    orjson_version,
    raw_aiohttp,
    sdk_async,
    sdk_async_fast,
    sdk_blocking,
)
from _first_call import CONTENDERS as FIRST_CALLS
from _first_call import first_call_stall
from _processes import FakeServer, bytecode_env, import_seconds
from _report import Metric, Row, Target, markdown_table, missing_row, summarize

import llama_models

API_KEY = "bench-key"
#: The fake server always serves four models; the decode server adds this many.
DEFAULT_MODELS = 4
DECODE_MODELS = 10_000
#: Text chunks of the streamed reply; every stream also has start, complete and metrics.
STREAM_CHUNKS = 20_000
STREAM_EVENTS = STREAM_CHUNKS + 3
SECTIONS = ("latency", "throughput", "decode", "chat", "stream", "import", "first-call")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


@dataclass(frozen=True)
class Plan:
    """How much work each measurement does."""

    rounds: int
    latency_calls: int
    latency_warmup: int
    throughput_calls: int
    throughput_warmup: int
    workers: int
    decode_calls: int
    decode_warmup: int
    import_runs: int
    chat_calls: int
    chat_warmup: int
    stream_calls: int
    stream_warmup: int
    first_call_runs: int

    def describe(self) -> str:
        return (
            f"{self.rounds} rounds; per round and contender: {self.latency_calls} sequential "
            f"retrieves, {self.throughput_calls} lists with {self.workers} in flight, "
            f"{self.decode_calls} lists of {DECODE_MODELS:,} models, {self.chat_calls} "
            f"sequential chat completions, {self.stream_calls} streams of "
            f"{STREAM_EVENTS:,} chunks; imports best of {self.import_runs}; "
            f"{self.first_call_runs} first calls"
        )


FULL = Plan(5, 2000, 200, 4000, 640, 64, 30, 3, 7, 2000, 200, 5, 1, 9)
QUICK = Plan(3, 300, 50, 640, 128, 64, 3, 1, 3, 300, 50, 2, 1, 3)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interleave(
    label: str, contenders: Sequence[Contender], job: Job, rounds: int
) -> dict[str, list[float]]:
    """Run every contender once per round, rotating the order; seconds per round."""
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    for index in range(rounds):
        started = time.perf_counter()
        shift = index % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            samples[contender.name].append(contender.run(job))
        elapsed = time.perf_counter() - started
        progress(f"[{label}] round {index + 1}/{rounds} ({elapsed:.1f} s)")
    return samples


@dataclass(frozen=True)
class Section:
    """One measurement over a set of contenders, the optional ones included when installed."""

    title: str
    metric: Metric
    ours: Sequence[Contender]
    official: Sequence[Contender]
    targets: dict[str, Target]
    #: The baseline, raw aiohttp making the section's request by hand.
    raw: Contender = raw_aiohttp
    #: The SDK with orjson's codec (the ``[fast]`` extra), run when orjson is installed.
    fast: Sequence[Contender] = ()
    #: The SDK with OpenTelemetry on (``llama_models.otel``), run when opentelemetry-sdk is installed.
    traced: Sequence[Contender] = ()

    def run(self, label: str, job: Job, plan: Plan, has_official: bool) -> list[Row]:
        has_fast = orjson_version() is not None
        has_otel = telemetry_version() is not None
        contenders = [
            self.raw,
            *self.ours,
            *(self.fast if has_fast else ()),
            *(self.traced if has_otel else ()),
            *(self.official if has_official else ()),
        ]
        samples = interleave(label, contenders, job, plan.rounds)
        rows = summarize(
            self.title,
            samples,
            baseline=self.raw.name,
            metric=self.metric,
            targets=self.targets,
        )
        if not has_fast:
            rows += [missing_row(self.title, c.name, "skipped: no orjson") for c in self.fast]
        if not has_otel:
            rows += [
                missing_row(self.title, c.name, "skipped: no opentelemetry-sdk")
                for c in self.traced
            ]
        if not has_official:
            rows += [missing_row(self.title, c.name) for c in self.official]
        return rows


def per_call(scale: float, unit: str, calls: int, digits: int) -> Metric:
    return Metric(unit, lambda seconds: seconds / calls * scale, digits)


def latency(base_url: str, plan: Plan, has_official: bool) -> list[Row]:
    section = Section(
        "retrieve, sequential",
        per_call(1e6, "µs/call", plan.latency_calls, 0),
        [sdk_async, sdk_blocking],
        [official_sync, official_async],
        {sdk_async.name: Target(1.15), sdk_blocking.name: Target(1.5)},
    )
    job = Job(base_url, API_KEY, "retrieve", plan.latency_calls, plan.latency_warmup)
    return section.run("latency", job, plan, has_official)


def throughput(base_url: str, plan: Plan, has_official: bool) -> list[Row]:
    calls = plan.throughput_calls
    section = Section(
        f"list, {plan.workers} in flight",
        Metric("req/s", lambda seconds: calls / seconds),
        [sdk_async, sdk_blocking],
        [official_async, official_sync],
        {sdk_async.name: Target(0.95, upper=False)},
        fast=[sdk_async_fast],
    )
    job = Job(
        base_url,
        API_KEY,
        "list",
        calls,
        plan.throughput_warmup,
        workers=plan.workers,
        expect_models=DEFAULT_MODELS,
    )
    return section.run("throughput", job, plan, has_official)


def decode(base_url: str, plan: Plan, has_official: bool) -> list[Row]:
    section = Section(
        f"list of {DECODE_MODELS:,} models",
        per_call(1e3, "ms/call", plan.decode_calls, 1),
        [sdk_async],
        [official_sync, official_async],
        {sdk_async.name: Target(2.0), sdk_async_fast.name: Target(1.0)},
        fast=[sdk_async_fast],
    )
    job = Job(
        base_url,
        API_KEY,
        "list",
        plan.decode_calls,
        plan.decode_warmup,
        expect_models=DECODE_MODELS,
    )
    return section.run("decode", job, plan, has_official)


def chat(base_url: str, plan: Plan, has_official: bool) -> list[Row]:
    section = Section(
        "chat, sequential",
        per_call(1e6, "µs/call", plan.chat_calls, 0),
        [sdk_chat_async, sdk_chat_blocking],
        [official_chat_sync, official_chat_async],
        {sdk_chat_async.name: Target(1.1)},
        raw=raw_chat,
        fast=[sdk_chat_async_fast],
        traced=[sdk_chat_async_otel],
    )
    job = Job(base_url, API_KEY, "chat", plan.chat_calls, plan.chat_warmup, expect_text=CHAT_REPLY)
    return section.run("chat", job, plan, has_official)


def stream(base_url: str, plan: Plan, has_official: bool) -> list[Row]:
    chunks = plan.stream_calls * STREAM_EVENTS
    section = Section(
        f"stream of {STREAM_EVENTS:,} chunks",
        Metric("chunks/s", lambda seconds: chunks / seconds),
        [sdk_chat_async, sdk_chat_blocking],
        [official_chat_sync, official_chat_async],
        {
            sdk_chat_async.name: Target(0.75, upper=False),
            sdk_chat_blocking.name: Target(0.35, upper=False),
            sdk_chat_async_fast.name: Target(1.0, upper=False),
        },
        raw=raw_chat,
        fast=[sdk_chat_async_fast],
    )
    job = Job(
        base_url,
        API_KEY,
        "stream",
        plan.stream_calls,
        plan.stream_warmup,
        expect_chunks=STREAM_EVENTS,
    )
    return section.run("stream", job, plan, has_official)


def imports(plan: Plan, has_official: bool) -> list[Row]:
    """``import X`` in fresh interpreters, interleaved; the best run of each counts."""
    title = "import, fresh process"
    modules = ["aiohttp", "llama_models", *(["llama_api_client"] if has_official else [])]
    samples: dict[str, list[float]] = {module: [] for module in modules}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = bytecode_env(cache)
        for module in modules:  # compile and cache the bytecode first
            import_seconds(module, env)
        for index in range(plan.import_runs):
            shift = index % len(modules)
            for module in [*modules[shift:], *modules[:shift]]:
                samples[module].append(import_seconds(module, env))
    progress(f"[import] {plan.import_runs} runs of {len(modules)} imports")
    rows = summarize(
        title,
        samples,
        baseline="aiohttp",
        metric=Metric("ms", lambda seconds: seconds * 1e3, 1),
        targets={"llama_models": Target(60, absolute=True, unit="ms")},
        best_of=True,
    )
    if not has_official:
        rows.append(missing_row(title, "llama_api_client"))
    return rows


def first_calls(base_url: str, plan: Plan) -> list[Row]:
    """The longest a 5 ms heartbeat waits during a client's first call, fresh processes."""
    names = list(FIRST_CALLS)
    samples: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = bytecode_env(cache)
        for name in names:  # compile and cache the bytecode first
            first_call_stall(name, base_url, API_KEY, env)
        for index in range(plan.first_call_runs):
            shift = index % len(names)
            for name in [*names[shift:], *names[:shift]]:
                samples[name].append(first_call_stall(name, base_url, API_KEY, env))
    progress(f"[first-call] {plan.first_call_runs} runs of {len(names)} first calls")
    limit = Target(50, absolute=True, unit="ms")
    return summarize(
        "event loop stall, first call",
        samples,
        baseline=names[0],
        metric=Metric("ms", lambda seconds: seconds * 1e3, 1),
        targets=dict.fromkeys(names[1:], limit),
    )


def environment(official: str | None) -> str:
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("aiohttp", "attrs", "cattrs", "anyio")
    )
    # The checkout under test: PYTHONPATH may put another one first (bench/README.md).
    package = Path(llama_models.__file__).parent
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), {packages}, "
        f"orjson {orjson_version() or 'not installed'}, "
        f"llama-api-client {official or 'not installed'}, {os.cpu_count()} CPUs; "
        f"llama_models from {package}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark llama_models against raw aiohttp and llama-api-client.",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about a minute)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per measurement")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this measurement (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = replace(plan, rounds=args.rounds)
    selected: Sequence[str] = args.only or SECTIONS
    official = official_version()
    has_official = official is not None
    header = environment(official)
    print(header, flush=True)
    progress(plan.describe())

    rows: list[Row] = []
    with ExitStack() as stack:

        def serve(extra_models: int = 0, stream_chunks: int | None = None) -> str:
            server = FakeServer(
                api_key=API_KEY, extra_models=extra_models, stream_chunks=stream_chunks
            )
            return stack.enter_context(server).base_url

        small = serve() if {"latency", "throughput", "chat", "first-call"} & set(selected) else ""
        large = serve(DECODE_MODELS - DEFAULT_MODELS) if "decode" in selected else ""
        streams = serve(stream_chunks=STREAM_CHUNKS) if "stream" in selected else ""
        runs: dict[str, Callable[[], list[Row]]] = {
            "latency": lambda: latency(small, plan, has_official),
            "throughput": lambda: throughput(small, plan, has_official),
            "decode": lambda: decode(large, plan, has_official),
            "chat": lambda: chat(small, plan, has_official),
            "stream": lambda: stream(streams, plan, has_official),
            "import": lambda: imports(plan, has_official),
            "first-call": lambda: first_calls(small, plan),
        }
        for name in SECTIONS:
            if name in selected:
                rows += runs[name]()

    table = markdown_table(rows)
    missed = [row.missed for row in rows if row.missed]
    footer = "\n".join(missed) if missed else "All targets met."
    print()
    print(table)
    print()
    print(footer)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"{header}\n\n{plan.describe()}\n\n{table}\n\n{footer}\n", encoding="utf-8")
    progress(f"written to {RESULTS}")
    return 0  # a report, not a test: missed targets do not fail the run


if __name__ == "__main__":
    sys.exit(main())
