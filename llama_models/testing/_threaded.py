"""Serving on a background thread: a daemon thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable

__all__ = ["BackgroundLoop"]


class BackgroundLoop:
    """Runs *start* on a new daemon thread's event loop, and *stop* there when asked.

    Errors raised on the thread are handed to the thread that called `run` or `close`.
    """

    def __init__(
        self,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        *,
        name: str,
    ) -> None:
        self._start = start
        self._stop = stop
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = False
        self._error: BaseException | None = None

    def run(self) -> None:
        """Start the thread and return once *start* has finished.

        Raises:
            BaseException: whatever *start* raised; the thread has ended by then.
        """
        self._thread.start()
        self._ready.wait()
        if not self._started:
            self._thread.join()
            error, self._error = self._error, None
            raise error or RuntimeError(f"the {self._thread.name} thread ended before it served")

    def close(self) -> None:
        """Run *stop* on the thread's loop and wait for the thread to end.

        Raises:
            BaseException: whatever the thread raised while serving or stopping.
        """
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended on its own
                loop.call_soon_threadsafe(stopping.set)
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the thread that called run() or close()
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        stopping = self._stopping = asyncio.Event()
        try:
            await self._start()
            self._started = True
        finally:
            self._ready.set()
        try:
            await stopping.wait()
        finally:
            await self._stop()
