"""The first call loads aiohttp and cattrs off the event loop, so other tasks keep running.

How long the loop may stall is measured by the benchmark (``bench/run.py --only first-call``);
here it is what runs where.
"""

from __future__ import annotations

import pytest
from script_support import run_script

from llama_models.testing import FakeLlamaAPI

SCRIPT = """
import asyncio, sys, threading

from llama_models import AsyncLlamaClient

HEAVY = ("aiohttp", "cattrs", "yarl", "multidict", "llama_models._transport", "llama_models._chat_stream")
assert not any(name in sys.modules for name in HEAVY), "imported with llama_models"
importers = {}


class Spy:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY:
            importers.setdefault(name, threading.get_ident())
        return None


sys.meta_path.insert(0, Spy())


async def main(first):
    loop_thread = threading.get_ident()
    async with AsyncLlamaClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
        messages = [{"role": "user", "content": "Hi"}]
        model = "Llama-3.3-70B-Instruct"
        if first == "models":
            await client.models.list()
        elif first == "chat":
            await client.chat.completions.create(model=model, messages=messages)
        else:
            stream = await client.chat.completions.create(
                model=model, messages=messages, stream=True
            )
            await stream.final_completion()
    on_loop = sorted(name for name, ident in importers.items() if ident == loop_thread)
    print("on the loop:", ",".join(on_loop) or "nothing")
    print("loaded:", ",".join(sorted(importers)))


asyncio.run(main(sys.argv[3]))
"""


@pytest.mark.parametrize("first", ["models", "chat", "stream"])
def test_the_first_call_loads_its_libraries_off_the_loop(
    threaded_server: FakeLlamaAPI, first: str
) -> None:
    """aiohttp, cattrs and the transport load with the first call, in a worker thread, not on the loop."""
    result = run_script(SCRIPT, threaded_server, first)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "on the loop: nothing",
        "loaded: aiohttp,cattrs,llama_models._chat_stream,llama_models._transport,multidict,yarl",
    ]
