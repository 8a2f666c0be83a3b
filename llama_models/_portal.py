"""The event loop thread of a `LlamaClient`, and the `Portal` handles that keep it alive.

Each blocking client runs its `AsyncLlamaClient` on a private event loop in a
daemon thread, which anyio runs (``anyio.run`` with a `BlockingPortal` that
is stopped at shutdown). The loop owns the client's aiohttp session, so
blocking calls work from any thread, including one that is itself running an
event loop (a Jupyter cell). The thread starts on first use: an unused client
costs nothing, and a forgotten one never keeps the interpreter alive.

Every blocking object of a client (the client, its resources and their
``with_response`` views, its open streams) holds the same `Portal`. The loop
is shut down when the client is closed, or when the last of those objects is
garbage-collected (``weakref.finalize`` on the portal), or at interpreter
exit; so ``LlamaClient().models.list()`` works, and so does a resource kept
after its client was dropped. Closing that no one asked for gives up on a loop
that a blocking callback holds up, rather than hang the exit.

Calls are handed to the loop with one ``call_soon_threadsafe``:
`BlockingPortal.call` waits for the task to be spawned and then again for its
result, two thread hand-offs where one will do (each costs tens of
microseconds of wake-up latency).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from .errors import ClientStateError

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

T = TypeVar("T")
Close = Callable[[], Awaitable[None]]

# How long Ctrl-C waits for the cancelled call to clean up before giving up on it.
_CANCEL_GRACE = 1.0
# How long a client closed by garbage collection or at interpreter exit waits for
# its loop to take the closing up. A loop that has not by then is held up (by a
# callback that blocks), and nothing may ever release it.
_TAKE_UP_WAIT = 1.0
# How long that closing may then take: the transport waits up to 5 s for cancelled
# calls to unwind before it closes its connections.
_CLOSE_WAIT = 10.0

logger = logging.getLogger("llama_models")

_CLOSED = "this client is closed; create a new client"
_FORKED = (
    "a LlamaClient that has made calls cannot be used in a forked child process; create a "
    "new client in the child (a client that has made no call yet may be shared this way)"
)


class Portal:
    """A handle on a client's event loop thread; see the module docstring.

    Its methods `call` and `run_soon` are the loop thread's own, so a call
    costs no extra hop through the handle.
    """

    __slots__ = ("__weakref__", "_aclose", "_finalizer", "_loop_thread", "call", "run_soon")

    def __init__(self, aclose: Close) -> None:
        loop_thread = _LoopThread()
        self._loop_thread = loop_thread
        self._aclose = aclose
        self.call = loop_thread.call
        self.run_soon = loop_thread.run_soon
        self._finalizer = weakref.finalize(self, loop_thread.shutdown, aclose, bounded=True)

    @property
    def closed(self) -> bool:
        return self._loop_thread.closed

    def close(self) -> None:
        """Close the client now (waiting for it), from any thread but the loop's own."""
        self._loop_thread.refuse_own_thread("close()")
        if self._finalizer.detach() is not None:
            self._loop_thread.shutdown(self._aclose)

    def __reduce__(self) -> NoReturn:
        from ._client import refuse_pickling

        refuse_pickling("a LlamaClient or its resources")


class _LoopThread:
    """Runs coroutine functions on a private event loop and waits for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        self._pid = os.getpid()
        self._closed = False
        # Calls handed to the loop and not yet answered; failed when the loop ends,
        # for a call handed over in the instant between the loop stopping and closing.
        self._waiting: set[concurrent.futures.Future[Any]] = set()

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, fn: Callable[..., Coroutine[Any, Any, T]], /, *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` on the loop and return its result.

        Ctrl-C (``KeyboardInterrupt``) cancels the call on the loop, waits briefly
        for it to clean up, and is then re-raised.
        """
        loop = self._loop
        if loop is None or self._closed or os.getpid() != self._pid:
            loop = self._start()
        if threading.get_ident() == self._ident:
            self.refuse_own_thread("a blocking call")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []
        waiting = self._waiting
        waiting.add(future)
        try:
            loop.call_soon_threadsafe(_start_task, loop, fn, args, kwargs, future, tasks)
        except RuntimeError:  # the loop closed since we looked
            waiting.discard(future)
            raise ClientStateError(_CLOSED) from None
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise ClientStateError("the client was closed while the call was running") from None
        except KeyboardInterrupt:
            # Cancel the call on the loop and give it a moment to unwind (close its
            # connection) before the interrupt goes on up the caller's stack.
            if not future.cancel():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_cancel, tasks)
                concurrent.futures.wait([future], timeout=_CANCEL_GRACE)
            raise
        finally:
            waiting.discard(future)

    def run_soon(self, fn: Callable[[], object]) -> None:
        """Schedule the plain function *fn* on the loop without waiting.

        For cleanup from a finalizer, which may run on any thread (the loop's
        own included) and must not block. Nothing happens once the loop is gone.
        """
        loop = self._loop
        if loop is None or self._closed or os.getpid() != self._pid:
            return
        if threading.get_ident() == self._ident:
            fn()
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped just now
            loop.call_soon_threadsafe(fn)

    def refuse_own_thread(self, what: str) -> None:
        """Raise if called on the loop's thread, where waiting for the loop never ends."""
        if threading.get_ident() == self._ident:
            raise ClientStateError(
                f"{what} on a LlamaClient from its own event loop thread (in a callback such as "
                "upload_file's on_progress) would wait for itself forever; make the call after "
                "the one running returns, or use an AsyncLlamaClient"
            )

    def _start(self) -> asyncio.AbstractEventLoop:
        if os.getpid() != self._pid:
            self._adopt_after_fork()
        with self._lock:
            if self._closed:
                raise ClientStateError(_CLOSED)
            if self._loop is None:
                self._portal, self._loop, self._thread = _spawn(self._waiting)
                self._ident = self._thread.ident
            return self._loop

    def _adopt_after_fork(self) -> None:
        """In a forked child: take over a client that never started its thread, or refuse."""
        if self._loop is not None:
            raise ClientStateError(_FORKED)
        # The parent's lock may have been held by one of its threads when it forked.
        self._lock = threading.Lock()
        self._waiting = set()
        self._pid = os.getpid()

    def shutdown(self, aclose: Close, *, bounded: bool = False) -> None:
        """Run *aclose* on the loop, then stop the loop thread. Idempotent.

        Ctrl-C while waiting gets out at once; the loop thread finishes closing on
        its own. On the loop's own thread (a garbage collection there) the closing
        is scheduled instead of awaited. In a forked child there is nothing of the
        parent's to close.

        *bounded* is for the finalizer, which runs when no one asked to close:
        at interpreter exit, or in whatever thread a garbage collection happens
        on. It gives up on a loop that does not take the closing up promptly.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            portal, loop, thread = self._portal, self._loop, self._thread
        if portal is None or loop is None or thread is None or os.getpid() != self._pid:
            return
        if threading.get_ident() == self._ident:
            loop.call_soon(_start_task, loop, _close_then_stop, (portal, aclose), {}, None, [])
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        taken_up = threading.Event()

        def take_up() -> None:
            taken_up.set()
            _start_task(loop, _close_then_stop, (portal, aclose), {}, done, [])

        try:
            loop.call_soon_threadsafe(take_up)
        except RuntimeError:  # pragma: no cover - the loop ended on its own
            return
        if not bounded:
            done.result()
            thread.join()
        elif not taken_up.wait(_TAKE_UP_WAIT):
            logger.warning(
                "the event loop thread of a LlamaClient did not take up closing the client "
                "within %.0f s (a callback such as on_progress is blocking it?); left unclosed",
                _TAKE_UP_WAIT,
            )
        else:
            with contextlib.suppress(concurrent.futures.TimeoutError):
                done.result(_CLOSE_WAIT)
            thread.join(_CLOSE_WAIT)


async def _close_then_stop(portal: BlockingPortal, aclose: Close) -> None:
    try:
        await aclose()
    finally:
        await portal.stop()


def _start_task(
    loop: asyncio.AbstractEventLoop,
    fn: Callable[..., Coroutine[Any, Any, T]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    future: concurrent.futures.Future[T] | None,
    tasks: list[asyncio.Task[T]],
) -> None:
    """On the loop: run the call as a task whose outcome lands in *future*."""
    if future is not None and not future.set_running_or_notify_cancel():
        return  # interrupted before it started
    task = loop.create_task(fn(*args, **kwargs))
    tasks.append(task)
    if future is not None:
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


def _spawn(
    waiting: set[concurrent.futures.Future[Any]],
) -> tuple[BlockingPortal, asyncio.AbstractEventLoop, threading.Thread]:
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
            _fail_waiting(waiting)

    thread = threading.Thread(target=main, name="llama-models-portal", daemon=True)
    thread.start()
    ready.wait()
    if "portal" not in handoff:  # pragma: no cover - the loop failed to start
        raise ClientStateError("could not start the event loop thread") from handoff.get("error")
    return handoff["portal"], handoff["loop"], thread


def _fail_waiting(waiting: set[concurrent.futures.Future[Any]]) -> None:
    """The loop has ended: no call still waiting for it will ever be answered."""
    for future in list(waiting):
        if not future.done():
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_exception(ClientStateError(_CLOSED))
