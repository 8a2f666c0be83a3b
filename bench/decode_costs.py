"""Where the SDK's time goes when it decodes the 10,000-model list and a 20,003-chunk stream.

The wall-clock benchmark (``run.py``) says how far the SDK is from raw aiohttp;
this says why. It fetches the bodies the benchmark's fake servers send, then,
for each JSON codec, times the parts of turning them into objects, each the
best of ``--runs`` with the garbage collector off, so that a part's figure is
its own cost:

* decoding the JSON (``json.loads``, which raw aiohttp uses, or ``orjson.loads``);
* structuring the decoded JSON with ``make_converter(codec=...)``, as the client does;
* for the list, two floors: the frozen ``Model`` objects built straight from the
  dicts by attrs' ``__init__`` (what any converter must at least pay), and a
  tuple per model (the loop and the key lookups alone).

Then it makes the client's own calls against the fake server (30 lists, 5
streams, after a warm-up) with the collector on, and reports how much of each
call went to garbage collection (timed with ``gc.callbacks``). The parts are also shown as ratios to
``json.loads`` timed in the same rounds, which move less with the machine's
load than the times do. With
``--cprofile`` it also prints the functions that took the most time of their
own during those calls (cProfile inflates small functions' share).

    python bench/decode_costs.py [--only {list,stream}] [--codec {json,orjson}] [--runs N] [--cprofile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib
import json
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from _contenders import MODEL_ID, Codec, orjson_version, sdk_converter
from _processes import FakeServer

from llama_models import AsyncLlamaClient, ChatCompletionChunk, Model, ModelList

API_KEY = "bench-key"
DECODE_MODELS = 10_000
STREAM_CHUNKS = 20_000
MESSAGES = [{"role": "user", "content": "Hello"}]


async def fetch(base_url: str, path: str, body: dict[str, Any] | None = None) -> bytes:
    """One answer of the fake server, as bytes (a GET, or a POST of *body*)."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if body is not None:
        headers["Accept"] = "text/event-stream"
    async with aiohttp.ClientSession() as session:
        method = "GET" if body is None else "POST"
        async with session.request(
            method, f"{base_url}/{path}", json=body, headers=headers
        ) as response:
            response.raise_for_status()
            return await response.read()


def best(parts: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """The best seconds of each part over *runs* rounds, taking turns, the collector off."""
    seconds = dict.fromkeys(parts, float("inf"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            for name, part in parts.items():
                started = time.perf_counter()
                part()
                seconds[name] = min(seconds[name], time.perf_counter() - started)
    finally:
        gc.enable()
    return seconds


def loader(codec: Codec) -> Callable[[bytes | str], Any]:
    if codec == "orjson":
        loads: Callable[[bytes | str], Any] = importlib.import_module("orjson").loads
        return loads
    return json.loads


def list_parts(raw: bytes, codec: Codec) -> dict[str, Callable[[], object]]:
    converter = sdk_converter(codec)
    loads = loader(codec)
    data = json.loads(raw)
    items: list[dict[str, Any]] = data["data"]
    converter.structure(data, ModelList)  # generate the hooks first
    return {
        "json.loads of the body (raw aiohttp)": lambda: json.loads(raw),
        f"{codec} decoding of the body": lambda: loads(raw),
        "structure(data, ModelList)": lambda: converter.structure(data, ModelList),
        "floor: Model(id, created, object, owned_by)": lambda: [
            Model(d["id"], d["created"], d["object"], d["owned_by"]) for d in items
        ],
        "floor: a tuple per model": lambda: [
            (d["id"], d["created"], d["object"], d["owned_by"]) for d in items
        ],
    }


def stream_parts(raw: bytes, codec: Codec) -> dict[str, Callable[[], object]]:
    converter = sdk_converter(codec)
    loads = loader(codec)
    events = [
        line[len("data: ") :].decode() for line in raw.split(b"\n") if line.startswith(b"data: ")
    ]
    decoded = [loads(event) for event in events]
    structure = converter.get_structure_hook(ChatCompletionChunk)
    return {
        "json.loads of each event (raw aiohttp)": lambda: [json.loads(e) for e in events],
        f"{codec} decoding of each event": lambda: [loads(e) for e in events],
        "structure each event as a ChatCompletionChunk": lambda: [
            structure(d, ChatCompletionChunk) for d in decoded
        ],
    }


async def client_calls(
    base_url: str, codec: Codec, what: str, profiler: cProfile.Profile | None
) -> tuple[float, float, int]:
    """Seconds per call, seconds of garbage collection per call, and calls made."""
    spent = [0.0]
    started = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    converter = sdk_converter(codec)
    async with AsyncLlamaClient(api_key=API_KEY, base_url=base_url, converter=converter) as client:

        async def listed() -> None:
            if len(await client.models.list()) != DECODE_MODELS:
                raise RuntimeError("the list does not hold every model")

        async def streamed() -> None:
            count = 0
            create = client.chat.completions.create
            async for _ in await create(model=MODEL_ID, messages=MESSAGES, stream=True):
                count += 1
            if count != STREAM_CHUNKS + 3:
                raise RuntimeError(f"the stream gave {count} chunks")

        call, calls, warmup = (listed, 30, 3) if what == "list" else (streamed, 5, 2)
        for _ in range(warmup):
            await call()
        gc.collect()
        gc.callbacks.append(watch)
        try:
            if profiler is not None:
                profiler.enable()
            clock = time.perf_counter()
            for _ in range(calls):
                await call()
            elapsed = time.perf_counter() - clock
        finally:
            if profiler is not None:
                profiler.disable()
            gc.callbacks.remove(watch)
    return elapsed / calls, spent[0] / calls, calls


def report(title: str, seconds: dict[str, float], per: int, unit: str) -> None:
    """The parts in ms, per model or chunk, and as a ratio to raw aiohttp's ``json.loads``."""
    print(f"\n{title}")
    baseline = next(iter(seconds.values()))  # json.loads, timed in the same rounds
    for name, value in seconds.items():
        print(
            f"  {name:46} {value * 1e3:7.2f} ms {value / per * 1e9:6,.0f} ns/{unit}"
            f" {value / baseline:5.2f}x json.loads"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("list", "stream"), action="append")
    parser.add_argument("--codec", choices=("json", "orjson"), action="append")
    parser.add_argument("--runs", type=int, default=20, help="rounds of the offline parts")
    parser.add_argument("--cprofile", action="store_true", help="profile the client's calls")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    codecs: list[Codec] = args.codec or ["json", *(["orjson"] if orjson_version() else [])]
    for what in args.only or ("list", "stream"):
        extra = {"extra_models": DECODE_MODELS - 4} if what == "list" else {}
        chunks = {"stream_chunks": STREAM_CHUNKS} if what == "stream" else {}
        with FakeServer(api_key=API_KEY, **extra, **chunks) as server:
            if what == "list":
                raw = asyncio.run(fetch(server.base_url, "models"))
                per, unit = DECODE_MODELS, "model"
            else:
                body = {"model": MODEL_ID, "messages": MESSAGES, "stream": True}
                raw = asyncio.run(fetch(server.base_url, "chat/completions", body))
                per, unit = STREAM_CHUNKS + 3, "chunk"
            for codec in codecs:
                parts = (list_parts if what == "list" else stream_parts)(raw, codec)
                report(
                    f"{what}, {codec} codec: parts, best of {args.runs}, GC off",
                    best(parts, args.runs),
                    per,
                    unit,
                )
                profiler = cProfile.Profile() if args.cprofile else None
                call, collecting, calls = asyncio.run(
                    client_calls(server.base_url, codec, what, profiler)
                )
                print(
                    f"  client calls ({calls}, GC on): {call * 1e3:.2f} ms a call, of which "
                    f"garbage collection {collecting * 1e3:.2f} ms ({collecting / call:.0%})"
                )
                if profiler is not None:
                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
