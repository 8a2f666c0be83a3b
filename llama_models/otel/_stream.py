"""A chat completion stream that ends its call's span when the stream ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._chat_stream import _OPEN, AsyncChatCompletionStream

if TYPE_CHECKING:
    from ._telemetry import Call

__all__ = ["TracedStream"]


class TracedStream(AsyncChatCompletionStream):
    """An `AsyncChatCompletionStream` that reports its end to its `Call`.

    The end is whichever comes first: the last event read (the span gets the
    usage of the final metrics), a failure (the span gets its error), the
    client closing under it (an error too), or the stream being closed early
    (``break``, ``aclose``, garbage collection: not an error). Everything here
    runs on the stream's event loop thread.
    """

    _call: Call | None = None
    _reading = False

    def _traced_by(self, call: Call) -> None:
        self._call = call

    def _take_call(self) -> Call | None:
        call, self._call = self._call, None
        return call

    async def _fill(self) -> bool:
        if self._call is None:
            return await super()._fill()
        self._reading = True
        try:
            more = await super()._fill()
        except BaseException as exc:
            call = self._take_call()
            if call is not None:
                call.fail(exc)
            raise
        finally:
            self._reading = False
        if not more:
            self._end_call()
        return more

    def _abort(self) -> None:
        super()._abort()
        if not self._reading:  # while reading, _fill sees how the read ends
            self._end_call()

    def _end_call(self) -> None:
        call = self._take_call()
        if call is None:
            return
        if self._accumulator.complete:  # the last event came, even if the end was not read
            call.finish(self._accumulator.completion())
        else:
            call.closed_early()

    def _client_closed(self) -> None:
        call = self._take_call() if self._state == _OPEN else None
        super()._client_closed()
        if call is not None:
            error = self._error
            call.fail(error if error is not None else RuntimeError("client closed"))
