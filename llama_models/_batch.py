"""`AsyncBatch`: many requests at once, at most ``concurrency`` in flight, results as they end.

The input is pulled one request at a time, and only when a call can start: a
slot is free (fewer than ``concurrency`` calls in flight) and, in order, the
results waiting for an earlier one are fewer than ``2 * concurrency``. Results
wait for the reader in a buffer of that size at most, and no call starts while
the reader keeps them waiting, so memory stays flat however long the input is.

Each request runs as a task of its own on the running loop. The engine moves
on only when the reader asks for the next result; the calls in flight go on
meanwhile. Closing the batch (``aclose``, leaving ``async with``, or the
blocking iterator being dropped) cancels them and waits for them to end.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sized
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._batch_items import custom_id_of, prepare
from .errors import ClientStateError, InvalidArgumentError, LlamaError
from .types.batch import BatchProgress, BatchResult
from .types.chat import ChatCompletion

if TYPE_CHECKING:
    from ._client import AsyncLlamaClient

__all__ = ["DEFAULT_CONCURRENCY", "TASK_NAME", "AsyncBatch", "BatchInput", "ProgressCallback"]

#: How many requests of a batch are in flight at once unless told otherwise.
DEFAULT_CONCURRENCY = 16

#: The name of each request's task, followed by `` #index``.
TASK_NAME = "llama-models batch request"

BatchInput = Iterable[Any] | AsyncIterable[Any]
ProgressCallback = Callable[[BatchProgress], object]


def check_batch_arguments(
    requests: object, concurrency: object, ordered: object, on_progress: object
) -> None:
    """Refuse bad arguments of ``batch`` before anything is pulled or sent."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be an int >= 1, not {concurrency!r}")
    if not isinstance(ordered, bool):
        raise InvalidArgumentError(f"ordered must be True or False, not {ordered!r}")
    if on_progress is not None and not callable(on_progress):
        raise InvalidArgumentError(
            f"on_progress must be a callable or None, not {type(on_progress).__name__}"
        )
    if isinstance(requests, (str, bytes)) or not isinstance(requests, (Iterable, AsyncIterable)):
        raise InvalidArgumentError(
            "requests must be an iterable or async iterable of BatchRequest objects or dicts, "
            f"not {type(requests).__name__}"
        )


class AsyncBatch:
    """The results of ``client.batch(...)``: an async iterator of `BatchResult`.

    Use it in ``async with``, so that leaving the block early (``break``, an
    exception) cancels the requests still in flight::

        async with client.batch(requests, concurrency=8) as results:
            async for result in results:
                print(result.custom_id, result.ok)

    One request failing never ends the batch: its `BatchResult` carries the
    error. An exception raised by the input iterator or by ``on_progress``
    does end it, cancelling the requests in flight.
    """

    def __init__(
        self,
        client: AsyncLlamaClient,
        requests: BatchInput,
        *,
        concurrency: int,
        ordered: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._source: Iterator[Any] | AsyncIterator[Any] | None = None
        self._requests = requests
        self._total = len(requests) if isinstance(requests, Sized) else None
        self._concurrency = concurrency
        self._window = 2 * concurrency if ordered else concurrency
        self._ordered = ordered
        self._on_progress = on_progress
        # In order: every task not yet handed out, oldest first. Unordered: the tasks
        # in flight, and the finished ones in `_ready`.
        self._tasks: collections.deque[asyncio.Task[BatchResult]] = collections.deque()
        self._running: set[asyncio.Task[BatchResult]] = set()
        self._ready: collections.deque[BatchResult] = collections.deque()
        self._index = 0
        self._exhausted = False
        self._closed = False
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = 0.0
        self._done = self._failed = self._input_tokens = self._output_tokens = 0
        check_batch_arguments(requests, concurrency, ordered, on_progress)

    @property
    def closed(self) -> bool:
        """Whether the batch is over (every result read, a failure, or closed)."""
        return self._closed

    def __aiter__(self) -> AsyncBatch:
        return self

    async def __anext__(self) -> BatchResult:
        result = await self._next_result()
        if result is None:
            raise StopAsyncIteration
        return result

    async def aclose(self) -> None:
        """Cancel the requests in flight and wait for them to end; harmless when closed."""
        self._closed = True
        tasks = [*self._tasks, *self._running]
        self._tasks.clear()
        self._running.clear()
        self._ready.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_source()

    async def __aenter__(self) -> AsyncBatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        self._abort()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._running) or len(self._tasks)} in flight"
        return f"<{type(self).__name__} done={self._done} failed={self._failed} {state}>"

    # -- the engine ----------------------------------------------------------------------

    async def _next_result(self) -> BatchResult | None:
        """The next result, or ``None`` once the input is used up and every result read."""
        if self._closed:
            return None
        try:
            return await (self._next_in_order() if self._ordered else self._next_unordered())
        except BaseException:
            await self.aclose()
            raise

    async def _next_batch(self) -> list[BatchResult]:
        """Every result ready now (at least one), or ``[]`` at the end: one hop per batch."""
        first = await self._next_result()
        if first is None:
            return []
        found = [first]
        if self._ordered:
            tasks = self._tasks
            while tasks and tasks[0].done() and tasks[0].exception() is None:
                found.append(tasks.popleft().result())
        else:
            found.extend(self._ready)
            self._ready.clear()
        return found

    def _raise_failure(self) -> None:
        failure = self._failure
        if failure is not None:
            self._failure = None
            raise failure

    async def _next_unordered(self) -> BatchResult | None:
        ready = self._ready
        while True:
            self._raise_failure()
            await self._fill()  # before handing a result out, so the slots stay busy
            if ready:
                return ready.popleft()
            if not self._running:
                self._closed = True
                return None
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)

    async def _next_in_order(self) -> BatchResult | None:
        tasks = self._tasks
        while True:
            self._raise_failure()
            await self._fill()
            if not tasks:
                self._closed = True
                return None
            if tasks[0].done():
                return tasks.popleft().result()
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)

    async def _fill(self) -> None:
        """Start calls for the next requests while there is room for them."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._started = time.monotonic()
        while not self._exhausted and self._has_room():
            found, item = await self._pull()
            if not found:
                self._exhausted = True
                await self._close_source()
                return
            task = self._loop.create_task(
                self._run(self._index, item), name=f"{TASK_NAME} #{self._index}"
            )
            self._index += 1
            self._running.add(task)
            task.add_done_callback(self._finished)
            if self._ordered:
                self._tasks.append(task)

    def _has_room(self) -> bool:
        running = len(self._running)
        if self._ordered:
            return running < self._concurrency and len(self._tasks) < self._window
        return running + len(self._ready) < self._concurrency

    async def _pull(self) -> tuple[bool, Any]:
        source = self._source
        if source is None:
            requests = self._requests
            source = aiter(requests) if isinstance(requests, AsyncIterable) else iter(requests)
            self._source = source
        if isinstance(source, AsyncIterator):
            try:
                return True, await anext(source)
            except StopAsyncIteration:
                return False, None
        try:
            return True, next(source)
        except StopIteration:
            return False, None

    async def _close_source(self) -> None:
        source, self._source = self._source, None
        self._requests = ()  # the input is not held on to once done with
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()
        elif source is not None and (close := getattr(source, "close", None)) is not None:
            close()

    def _finished(self, task: asyncio.Task[BatchResult]) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        failure = task.exception()
        if failure is not None:
            # Not a request's failure (those are results) but the batch's own: a bug in
            # on_progress, or the client closed. It ends the batch at the next read.
            if self._failure is None:
                self._failure = failure
        elif not self._ordered:
            self._ready.append(task.result())

    async def _run(self, index: int, item: object) -> BatchResult:
        custom_id = custom_id_of(item)
        try:
            response = await prepare(self._client, item)()
        except ClientStateError:
            raise  # the client was closed: no request could succeed any more
        except LlamaError as exc:
            result = BatchResult(index=index, custom_id=custom_id, error=exc)
            self._failed += 1
        else:
            result = BatchResult(index=index, custom_id=custom_id, response=response)
            if isinstance(response, ChatCompletion):
                usage = response.usage
                self._input_tokens += int(usage.prompt_tokens or 0)
                self._output_tokens += int(usage.completion_tokens or 0)
        self._done += 1
        if self._on_progress is not None:
            self._on_progress(self.progress())
        return result

    def progress(self) -> BatchProgress:
        """The counts so far, as handed to ``on_progress``."""
        return BatchProgress(
            done=self._done,
            failed=self._failed,
            total=self._total,
            input_tokens=self._input_tokens,
            output_tokens=self._output_tokens,
            elapsed=time.monotonic() - self._started if self._started else 0.0,
        )

    def _abort(self) -> None:
        """Cancel the calls in flight without waiting: for a batch dropped unclosed."""
        loop, tasks = self._loop, [*self._tasks, *self._running]
        self._closed = True
        if loop is None or not tasks or loop.is_closed():
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            for task in tasks:
                task.cancel()
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            for task in tasks:
                loop.call_soon_threadsafe(task.cancel)
