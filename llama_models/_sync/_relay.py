"""`Relay`: a blocking iterator over async work running on the client's portal loop.

`ChatCompletionStream` and `Batch` are both one: items cross to the caller's
thread in groups (``_next_batch`` of the async side: everything ready at that
moment), because a thread hand-off costs far more than an item does. Closing,
leaving ``with``, dropping a ``for`` loop's iterator early and garbage
collection all end the async side; the subclasses say how an item is fetched
and when they are over.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .._portal import Portal

__all__ = ["Relay"]

T = TypeVar("T")
_R = TypeVar("_R", bound="Relay[Any]")


class Relay(Generic[T]):
    """The items of an async object (``_inner``) handed over in groups through *portal*.

    ``_inner`` has ``closed``, ``_next_batch()`` (the items ready, ``[]`` at the
    end), ``aclose()`` (end it and wait) and ``_abort()`` (end it, from a
    finalizer that cannot wait).
    """

    _inner: Any

    def __init__(self, portal: Portal, inner: Any) -> None:
        self._portal = portal
        self._inner = inner
        self._batch: list[T] = []
        self._index = 0

    def __iter__(self) -> Iterator[T]:
        return _Dropping(self)

    def __next__(self) -> T:
        index = self._index
        if index >= len(self._batch) or self._stale():
            self._batch = self._portal.call(self._inner._next_batch)
            if not self._batch:
                raise StopIteration
            index = 0
        self._index = index + 1
        return self._batch[index]

    def _stale(self) -> bool:
        """Whether the items in hand are to be dropped rather than handed out."""
        return False

    def close(self) -> None:
        """End the work on the loop and wait for it to end; harmless when already closed."""
        self._batch, self._index = [], 0
        if not self._inner.closed:
            self._portal.call(self._inner.aclose)

    def __enter__(self: _R) -> _R:
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
        inner = self._inner
        if not inner.closed:
            self._batch, self._index = [], 0
            self._portal.run_soon(inner._abort)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._inner!r}>"


class _Dropping(Generic[T]):
    """The iterator behind ``for item in relay``; dropping it early ends the relay."""

    __slots__ = ("_relay",)

    def __init__(self, relay: Relay[T]) -> None:
        self._relay = relay

    def __iter__(self) -> _Dropping[T]:
        return self

    def __next__(self) -> T:
        return self._relay.__next__()

    def __del__(self) -> None:
        self._relay._abort_soon()
