"""How long the first call stalls the event loop, measured in a fresh interpreter.

The probe imports its client at the top, as a service module does, then starts
an event loop with a heartbeat task that asks to wake every 5 ms and records
how late each wake-up is. After a few beats it makes the client's first call
(connection, first request, and everything loaded on first use), and reports
the latest beat seen until the call returned: how long every other task of a
service would have waited.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

__all__ = ["CONTENDERS", "first_call_stall"]

#: What each contender imports at the top, and how it makes its first call.
CONTENDERS: dict[str, tuple[str, str]] = {
    "raw aiohttp": (
        "import aiohttp",
        """
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + "/models", headers={"Authorization": "Bearer " + KEY}) as resp:
            resp.raise_for_status()
            await resp.read()
""",
    ),
    "llama_models async, models.list()": (
        "from llama_models import AsyncLlamaClient",
        """
    async with AsyncLlamaClient(api_key=KEY, base_url=BASE) as client:
        await client.models.list()
""",
    ),
    "llama_models async, chat.completions.create()": (
        "from llama_models import AsyncLlamaClient",
        """
    async with AsyncLlamaClient(api_key=KEY, base_url=BASE) as client:
        await client.chat.completions.create(
            model="Llama-3.3-70B-Instruct", messages=[{"role": "user", "content": "Hello"}]
        )
""",
    ),
}

_PROBE = """
import asyncio, sys, time
{imports}
BASE, KEY = sys.argv[1], sys.argv[2]
TICK = 0.005


async def first_call():
{call}


async def main():
    loop = asyncio.get_running_loop()
    late = []
    beats = 0
    running = True

    async def heartbeat():
        nonlocal beats
        while running:
            asked = loop.time() + TICK
            await asyncio.sleep(TICK)
            late.append(loop.time() - asked)
            beats += 1

    beat = asyncio.create_task(heartbeat())
    while beats < 5:  # the heartbeat is running before the call starts
        await asyncio.sleep(TICK)
    del late[:]
    await first_call()
    running = False
    await beat
    print(max(late))


asyncio.run(main())
"""


def first_call_stall(name: str, base_url: str, api_key: str, env: Mapping[str, str]) -> float:
    """The longest a 5 ms heartbeat waited past its time during *name*'s first call, in s."""
    imports, call = CONTENDERS[name]
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(imports=imports, call=call), base_url, api_key],
        capture_output=True,
        text=True,
        check=False,
        env=dict(env),
    )
    if result.returncode != 0:
        raise RuntimeError(f"the first-call probe of {name} failed:\n{result.stderr.strip()}")
    return float(result.stdout)
