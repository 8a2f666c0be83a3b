"""Instructions per call, counted by valgrind's callgrind: a measure that load does not move.

The wall-clock benchmark (``run.py``) is read as ratios because the machine is shared;
a change of a few percent drowns in its noise. callgrind counts the instructions the
client process executes, which is the same from run to run within about half a
percent. Each client runs twice under callgrind, with a small and a large number of
calls after the same warm-up, and the difference divided by the difference in calls
is the cost of one call, start-up and imports excluded. The fake server runs outside
valgrind, in its own process.

    python bench/instructions.py [--calls 500 1500] [--pythonpath DIR] [--codec {json,orjson}]

``--pythonpath`` puts another checkout's ``llama_models`` first on the clients' path,
to compare two versions of the code on the same machine. ``--codec`` gives the
clients ``make_converter(codec=...)``; without it they use the default converter
(orjson's when it is installed), which checkouts from before ``make_converter``
have too. Needs ``valgrind`` on PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _processes import FakeServer

API_KEY = "bench-key"
WARMUP = 300

#: What each client does: the warm-up, then N calls (``models.list()``, 64 at a time, or
#: chat completions one after another).
CLIENTS = {
    "llama_models async, 64 in flight": """
import asyncio, sys
from llama_models import AsyncLlamaClient
BASE, KEY, N, WARMUP = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CONVERTER = {}
if sys.argv[5]:
    from llama_models import make_converter
    CONVERTER["converter"] = make_converter(codec=sys.argv[5])
async def main():
    async with AsyncLlamaClient(api_key=KEY, base_url=BASE, **CONVERTER) as client:
        for _ in range(WARMUP):
            await client.models.list()
        slots = asyncio.Semaphore(64)
        async def one():
            async with slots:
                await client.models.list()
        await asyncio.gather(*(one() for _ in range(N)))
asyncio.run(main())
""",
    "llama_models async, chat completions one at a time": """
import asyncio, sys
from llama_models import AsyncLlamaClient
BASE, KEY, N, WARMUP = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CONVERTER = {}
if sys.argv[5]:
    from llama_models import make_converter
    CONVERTER["converter"] = make_converter(codec=sys.argv[5])
MESSAGES = [{"role": "user", "content": "Hello"}]
async def main():
    async with AsyncLlamaClient(api_key=KEY, base_url=BASE, **CONVERTER) as client:
        create = client.chat.completions.create
        for _ in range(WARMUP + N):
            await create(model="Llama-3.3-70B-Instruct", messages=MESSAGES)
asyncio.run(main())
""",
    "llama_models blocking, 64 threads": """
import sys
from concurrent.futures import ThreadPoolExecutor
from llama_models import LlamaClient
BASE, KEY, N, WARMUP = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CONVERTER = {}
if sys.argv[5]:
    from llama_models import make_converter
    CONVERTER["converter"] = make_converter(codec=sys.argv[5])
with LlamaClient(api_key=KEY, base_url=BASE, **CONVERTER) as client:
    for _ in range(WARMUP):
        client.models.list()
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda _: client.models.list(), range(N)))
""",
}

_COLLECTED = re.compile(r"Collected : (\d+)")


def count(
    valgrind: str,
    script: str,
    base_url: str,
    calls: int,
    env: dict[str, str],
    folder: str,
    codec: str = "",
) -> int:
    """Instructions the client process executes with *calls* calls after the warm-up."""
    out = os.path.join(folder, "callgrind.out")
    result = subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            script,
            base_url,
            API_KEY,
            str(calls),
            str(WARMUP),
            codec,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=folder,  # not the checkout: "-c" puts the working directory first on the path
    )
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"the client failed under callgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs=2, default=(500, 1500), metavar="N")
    parser.add_argument("--pythonpath", help="a checkout whose llama_models the clients use")
    parser.add_argument(
        "--codec", choices=("json", "orjson"), default="", help="the converter's JSON codec"
    )
    args = parser.parse_args(argv)
    small, large = args.calls
    if not 0 < small < large:
        parser.error("--calls takes two numbers, the first smaller")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        parser.error("valgrind is not on PATH (Debian: apt-get install valgrind)")
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = str(Path(args.pythonpath).resolve())
    with FakeServer(api_key=API_KEY) as server, tempfile.TemporaryDirectory() as folder:
        codec = f", codec {args.codec}" if args.codec else ", default converter"
        print(f"instructions per call ({large} - {small} calls, callgrind{codec})")
        for name, script in CLIENTS.items():
            few = count(valgrind, script, server.base_url, small, env, folder, args.codec)
            many = count(valgrind, script, server.base_url, large, env, folder, args.codec)
            print(f"{name}: {(many - few) / (large - small):,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
