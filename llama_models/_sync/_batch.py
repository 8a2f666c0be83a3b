"""`Batch`: the blocking face of `AsyncBatch`.

The batch runs on the client's portal loop. Results cross to the caller's
thread in groups, every result ready at the moment per hop, as stream chunks
do. Leaving a ``for`` loop early, closing, leaving ``with``, Ctrl-C and the
batch being garbage-collected all cancel the calls in flight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..types.batch import BatchProgress, BatchResult
from ._relay import Relay

if TYPE_CHECKING:
    from .._batch import AsyncBatch

__all__ = ["Batch"]


class Batch(Relay[BatchResult]):
    """The results of ``client.batch(...)`` on `LlamaClient`: an iterator of `BatchResult`.

    ::

        with client.batch(requests, concurrency=8) as results:
            for result in results:
                print(result.custom_id, result.ok)

    Leaving the ``for`` loop early (``break``, an exception, Ctrl-C) cancels
    the calls in flight, and so do `close` and leaving ``with``. One request
    failing never ends the batch: its `BatchResult` carries the error.
    """

    _inner: AsyncBatch

    @property
    def closed(self) -> bool:
        """Whether the batch is over (every result read, a failure, or closed)."""
        return self._inner.closed and self._index >= len(self._batch)

    def progress(self) -> BatchProgress:
        """The counts so far, as handed to ``on_progress``."""
        return self._inner.progress()

    def __next__(self) -> BatchResult:
        try:
            return super().__next__()
        except KeyboardInterrupt:
            self.close()
            raise

    def close(self) -> None:
        """Cancel the requests in flight and wait for them to end; harmless when closed."""
        super().close()  # as Relay's; the docs are aclose's, word for word
