"""One anyio blocking portal per `LlamaClient`, on a private daemon thread.

The portal's event loop owns the client's aiohttp session, so blocking calls
work from any thread, including one that is itself running an event loop (a
Jupyter cell). The thread is a daemon and is started on first use: an unused
client costs nothing, and a forgotten one never keeps the interpreter alive.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ClientStateError

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

T = TypeVar("T")

# How long Ctrl-C waits for the cancelled call to clean up before giving up on it.
_CANCEL_GRACE = 5.0


class Portal:
    """Runs coroutine functions on a private event loop and waits for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` on the portal and return its result.

        Ctrl-C (``KeyboardInterrupt``) cancels the call on the portal, waits briefly
        for it to clean up, and is then re-raised.
        """
        portal = self._portal
        if portal is None or self._closed or os.getpid() != self._pid:
            portal = self._start()
        done = threading.Event()

        async def run() -> T:
            try:
                return await fn(*args, **kwargs)
            finally:
                done.set()

        future = portal.start_task_soon(run)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            done.wait(_CANCEL_GRACE)
            raise

    def _start(self) -> BlockingPortal:
        if os.getpid() != self._pid:
            raise ClientStateError(
                "a LlamaClient cannot be used in a forked child process; "
                "create a new client in the child"
            )
        with self._lock:
            if self._closed:
                raise ClientStateError("this client is closed; create a new client")
            if self._portal is None:
                self._portal, self._thread = _spawn()
            return self._portal

    def shutdown(self, aclose: Callable[[], Awaitable[None]]) -> None:
        """Run *aclose* on the portal, then stop the portal thread. Idempotent.

        In a forked child, or on the portal's own thread, there is nothing that
        can be awaited safely, so the portal is only marked closed.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            portal, thread = self._portal, self._thread
            self._portal = self._thread = None
        if portal is None or thread is None or os.getpid() != self._pid:
            return
        if threading.current_thread() is thread:  # pragma: no cover - GC on the portal thread
            return
        try:
            portal.call(aclose)
        finally:
            portal.call(portal.stop)
            thread.join()


def _spawn() -> tuple[BlockingPortal, threading.Thread]:
    """Start a daemon thread running an anyio event loop with a portal in it."""
    import anyio
    from anyio.from_thread import BlockingPortal

    ready = threading.Event()
    handoff: dict[str, Any] = {}

    async def serve() -> None:
        async with BlockingPortal() as portal:
            handoff["portal"] = portal
            ready.set()
            await portal.sleep_until_stopped()

    def main() -> None:
        try:
            anyio.run(serve, backend="asyncio")
        except BaseException as exc:  # pragma: no cover - reported to the starting thread
            handoff["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=main, name="llama-models-portal", daemon=True)
    thread.start()
    ready.wait()
    if "portal" not in handoff:  # pragma: no cover - the loop failed to start
        raise ClientStateError("could not start the event loop thread") from handoff.get("error")
    return handoff["portal"], thread
