"""One anyio blocking portal per `LlamaClient`, on a private daemon thread.

The portal's event loop owns the client's aiohttp session, so blocking calls
work from any thread, including one that is itself running an event loop (a
Jupyter cell). The thread is a daemon and is started on first use: an unused
client costs nothing, and a forgotten one never keeps the interpreter alive.

anyio runs the loop and the portal's lifecycle. Calls themselves are handed to
the portal's loop with one ``call_soon_threadsafe``: `BlockingPortal.call` waits
for the task to be spawned and then again for its result, two thread hand-offs
where one will do (each costs tens of microseconds of wake-up latency).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, fn: Callable[..., Coroutine[Any, Any, T]], /, *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` on the portal and return its result.

        Ctrl-C (``KeyboardInterrupt``) cancels the call on the portal, waits briefly
        for it to clean up, and is then re-raised.
        """
        loop = self._loop
        if loop is None or self._closed or os.getpid() != self._pid:
            loop = self._start()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []
        loop.call_soon_threadsafe(_start_task, loop, fn, args, kwargs, future, tasks)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise ClientStateError("the client was closed while the call was running") from None
        except KeyboardInterrupt:
            # Cancel the call on the loop and give it a moment to unwind (close its
            # connection) before the interrupt goes on up the caller's stack.
            if not future.cancel():
                loop.call_soon_threadsafe(_cancel, tasks)
                concurrent.futures.wait([future], timeout=_CANCEL_GRACE)
            raise

    def run_soon(self, fn: Callable[[], object]) -> None:
        """Schedule the plain function *fn* on the portal's loop without waiting.

        For cleanup from a finalizer, which may run on any thread (the portal's
        own included) and must not block. Nothing happens once the portal is gone.
        """
        loop = self._loop
        if loop is None or self._closed or os.getpid() != self._pid:
            return
        if threading.current_thread() is self._thread:
            fn()
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped just now
            loop.call_soon_threadsafe(fn)

    def _start(self) -> asyncio.AbstractEventLoop:
        if os.getpid() != self._pid:
            raise ClientStateError(
                "a LlamaClient cannot be used in a forked child process; "
                "create a new client in the child"
            )
        with self._lock:
            if self._closed:
                raise ClientStateError("this client is closed; create a new client")
            if self._loop is None:
                self._portal, self._loop, self._thread = _spawn()
            return self._loop

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
            self._portal = self._thread = self._loop = None
        if portal is None or thread is None or os.getpid() != self._pid:
            return
        if threading.current_thread() is thread:  # pragma: no cover - GC on the portal thread
            return
        try:
            portal.call(aclose)
        finally:
            portal.call(portal.stop)
            thread.join()


def _start_task(
    loop: asyncio.AbstractEventLoop,
    fn: Callable[..., Coroutine[Any, Any, T]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    future: concurrent.futures.Future[T],
    tasks: list[asyncio.Task[T]],
) -> None:
    """On the loop: run the call as a task whose outcome lands in *future*."""
    if not future.set_running_or_notify_cancel():
        return  # interrupted before it started
    task = loop.create_task(fn(*args, **kwargs))
    tasks.append(task)
    task.add_done_callback(lambda done: _settle(done, future))


def _settle(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        future.set_exception(concurrent.futures.CancelledError())
    elif (error := task.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(task.result())


def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()


def _spawn() -> tuple[BlockingPortal, asyncio.AbstractEventLoop, threading.Thread]:
    """Start a daemon thread running an anyio event loop with a portal in it."""
    import anyio
    from anyio.from_thread import BlockingPortal

    ready = threading.Event()
    handoff: dict[str, Any] = {}

    async def serve() -> None:
        async with BlockingPortal() as portal:
            handoff["portal"] = portal
            handoff["loop"] = asyncio.get_running_loop()
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
    return handoff["portal"], handoff["loop"], thread
