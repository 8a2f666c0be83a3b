"""Helpers of the batch tests: request makers, and a gate that holds requests at the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from llama_models._batch import TASK_NAME

MODEL = "Llama-3.3-70B-Instruct"


def chat_item(text: str, custom_id: str | None = None) -> dict[str, Any]:
    """A batch-file line asking for a chat completion of *text*."""
    item: dict[str, Any] = {
        "body": {"model": MODEL, "messages": [{"role": "user", "content": text}]}
    }
    if custom_id is not None:
        item["custom_id"] = custom_id
    return item


def batch_tasks() -> list[asyncio.Task[Any]]:
    """The request tasks of any batch still alive on the running loop."""
    return [task for task in asyncio.all_tasks() if task.get_name().startswith(TASK_NAME)]


class Pulled:
    """An endless request generator that counts how many requests were taken from it."""

    def __init__(self) -> None:
        self.count = 0
        self.closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            while True:
                self.count += 1
                yield chat_item(f"question {self.count}", f"q{self.count}")
        finally:
            self.closed = True


class Gate:
    """Holds every chat request at the fake server until the test releases it by its text.

    Install `middleware` on a `FakeLlamaAPI` before it starts; the server must run on the
    test's own loop. `held` are the requests waiting for their release; `peak` is the most
    requests the server was handling at once.
    """

    def __init__(self) -> None:
        self.held: dict[str, asyncio.Event] = {}
        self.active = 0
        self.peak = 0
        self._changed = asyncio.Condition()

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._hold(request, handler)

        self.middleware = middleware
        """The aiohttp middleware that holds each chat request until `release`."""

    async def _hold(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.endswith("/chat/completions"):
            return await handler(request)
        text = (await request.json())["messages"][0]["content"]
        release = asyncio.Event()
        async with self._changed:
            self.held[text] = release
            self.active += 1
            self.peak = max(self.peak, self.active)
            self._changed.notify_all()
        try:
            await release.wait()
            return await handler(request)
        finally:
            # Before the response goes out, so the client cannot have started another.
            self.active -= 1

    async def wait_held(self, count: int) -> set[str]:
        """Wait until exactly *count* requests are held; return their texts."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.held) == count), 20)
            return set(self.held)

    def release(self, text: str) -> None:
        """Let the held request for *text* through."""
        self.held.pop(text).set()

    def release_all(self) -> None:
        """Let every held request through (test teardown)."""
        while self.held:
            self.held.popitem()[1].set()
