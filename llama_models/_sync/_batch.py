"""`Batch`: the blocking face of `AsyncBatch`.

The batch runs on the client's portal loop. Results cross to the caller's
thread in groups, every result ready at the moment per hop, as stream chunks
do. Leaving a ``for`` loop early, closing, leaving ``with``, Ctrl-C and the
batch being garbage-collected all cancel the calls in flight.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from ..types.batch import BatchProgress, BatchResult

if TYPE_CHECKING:
    from .._batch import AsyncBatch
    from .._portal import Portal

__all__ = ["Batch"]


class Batch:
    """The results of ``client.batch(...)`` on `LlamaClient`: an iterator of `BatchResult`.

    ::

        with client.batch(requests, concurrency=8) as results:
            for result in results:
                print(result.custom_id, result.ok)

    Leaving the ``for`` loop early (``break``, an exception, Ctrl-C) cancels
    the calls in flight, and so do `close` and leaving ``with``. One request
    failing never ends the batch: its `BatchResult` carries the error.
    """

    def __init__(self, portal: Portal, inner: AsyncBatch) -> None:
        self._portal = portal
        self._inner = inner
        self._batch: list[BatchResult] = []
        self._index = 0

    @property
    def closed(self) -> bool:
        """Whether the batch is over (every result read, a failure, or closed)."""
        return self._inner.closed and self._index >= len(self._batch)

    def progress(self) -> BatchProgress:
        """The counts so far, as handed to ``on_progress``."""
        return self._inner.progress()

    def __iter__(self) -> Iterator[BatchResult]:
        return _Results(self)

    def __next__(self) -> BatchResult:
        index = self._index
        if index >= len(self._batch):
            try:
                self._batch = self._portal.call(self._inner._next_batch)
            except KeyboardInterrupt:
                self.close()
                raise
            index = 0
            if not self._batch:
                raise StopIteration
        self._index = index + 1
        return self._batch[index]

    def close(self) -> None:
        """Cancel the requests in flight and wait for them to end; harmless when closed."""
        self._batch, self._index = [], 0
        if not self._inner.closed:
            self._portal.call(self._inner.aclose)

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self._abort_soon()

    def _abort_soon(self) -> None:
        if not self._inner.closed:
            self._batch, self._index = [], 0
            self._portal.run_soon(self._inner._abort)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._inner!r}>"


class _Results:
    """The iterator behind ``for result in batch``; dropping it early cancels the batch."""

    __slots__ = ("_batch",)

    def __init__(self, batch: Batch) -> None:
        self._batch = batch

    def __iter__(self) -> _Results:
        return self

    def __next__(self) -> BatchResult:
        return self._batch.__next__()

    def __del__(self) -> None:
        self._batch._abort_soon()
