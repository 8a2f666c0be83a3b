"""`ChatCompletionStream`: the blocking face of `AsyncChatCompletionStream`.

The async stream runs on the client's portal loop. Chunks cross to the
caller's thread in batches, everything that arrived in one network read per
hop, because a thread hand-off costs far more than a chunk does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._stream_view import WrappedResponse
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ._relay import Relay

if TYPE_CHECKING:
    from .._chat_stream import AsyncChatCompletionStream

__all__ = ["ChatCompletionStream"]

# The state of an `AsyncChatCompletionStream` closed before its end.
_CUT_SHORT = "closed"


class ChatCompletionStream(Relay[ChatCompletionChunk], WrappedResponse):
    """A streamed chat completion: an iterator of `ChatCompletionChunk`.

    Returned by ``client.chat.completions.create(..., stream=True)`` on the
    blocking client. Iterate it for the chunks, or `text_deltas` for the text
    alone, or call `final_completion` for the same `ChatCompletion` the
    non-streaming call returns. Use it in a ``with`` block, or iterate it to
    the end, so its connection is released::

        with client.chat.completions.create(model=..., messages=..., stream=True) as stream:
            for text in stream.text_deltas():
                print(text, end="", flush=True)

    Leaving a ``for`` loop early (``break``) closes the stream as well. The
    errors are those of `AsyncChatCompletionStream`.
    """

    _inner: AsyncChatCompletionStream

    @property
    def closed(self) -> bool:
        """Whether the stream is over, because it was read to its end, failed, or was closed."""
        inner = self._inner
        return inner.closed and (self._index >= len(self._batch) or inner._state == _CUT_SHORT)

    def _stale(self) -> bool:
        # The chunks in hand go too when the stream was cut short (by closing the client).
        return self._inner._state == _CUT_SHORT

    def text_deltas(self) -> Iterator[str]:
        """Iterate over the pieces of reply text only, as they arrive.

        Tool-call pieces and empty deltas are skipped; the chunks still count
        towards `final_completion`. Leaving the loop early closes the stream.
        """
        return _TextDeltas(self)

    def final_completion(self) -> ChatCompletion:
        """Read the rest of the stream and return the whole `ChatCompletion`.

        It is equal to what the same call without ``stream=True`` returns: the
        text joined, tool calls with their argument fragments joined, the stop
        reason and the metrics. Chunks already iterated over count too.

        Raises:
            ClientStateError: the stream was closed before it completed.
        """
        return self._portal.call(self._inner.final_completion)

    def close(self) -> None:
        """Close the stream and its connection; harmless when already closed."""
        super().close()  # as Relay's; the docs are aclose's, word for word


class _TextDeltas:
    """The iterator behind `ChatCompletionStream.text_deltas`."""

    __slots__ = ("_chunks",)

    def __init__(self, stream: ChatCompletionStream) -> None:
        self._chunks = iter(stream)

    def __iter__(self) -> _TextDeltas:
        return self

    def __next__(self) -> str:
        chunks = self._chunks
        while True:
            text = chunks.__next__().text
            if text:
                return text
