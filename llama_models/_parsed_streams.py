"""Streams of ``parse(..., stream=True)``: text deltas as they come, the parsed object at the end.

Each wraps the plain stream of its client and changes one thing: `final_completion`
returns a `ParsedChatCompletion` whose ``parsed`` is an instance of the class asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._stream_view import WrappedResponse
from ._structured import parse_completion
from .types.chat import ChatCompletionChunk, ParsedChatCompletion

if TYPE_CHECKING:
    import cattrs

    from ._chat_stream import AsyncChatCompletionStream
    from ._sync._stream import ChatCompletionStream

T = TypeVar("T")

__all__ = ["AsyncParsedChatCompletionStream", "ParsedChatCompletionStream"]


class _Parsing(WrappedResponse, Generic[T]):
    """What both parsed streams share: the wrapped stream's response, and how to parse."""

    _inner: AsyncChatCompletionStream | ChatCompletionStream

    def __init__(self, cls: type[T], converter: cattrs.Converter, loads: Callable[[str], Any]):
        self._cls = cls
        self._converter = converter
        self._loads = loads

    @property
    def closed(self) -> bool:
        """Whether the stream is closed (read to its end, or closed early)."""
        return self._inner.closed


class AsyncParsedChatCompletionStream(_Parsing[T]):
    """The stream of ``await client.chat.completions.parse(..., stream=True)``.

    Iterate it (or `text_deltas`) for the reply as it is written; then
    ``await stream.final_completion()`` structures the whole reply.
    """

    def __init__(
        self,
        inner: AsyncChatCompletionStream,
        cls: type[T],
        converter: cattrs.Converter,
        loads: Callable[[str], Any],
    ) -> None:
        super().__init__(cls, converter, loads)
        self._inner = self._stream = inner

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self._stream.__aiter__()

    def text_deltas(self) -> AsyncIterator[str]:
        """The text of each chunk that adds some, as it arrives."""
        return self._stream.text_deltas()

    async def final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end and structure the reply.

        Raises:
            StructuredOutputError: the reply was cut off, is not JSON, or does
                not fit the class.
        """
        completion = await self._stream.final_completion()
        return parse_completion(completion, self._cls, self._converter, self._loads)

    async def aclose(self) -> None:
        """Close the stream and release its connection."""
        await self._stream.aclose()

    async def __aenter__(self) -> AsyncParsedChatCompletionStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ParsedChatCompletionStream(_Parsing[T]):
    """The stream of ``client.chat.completions.parse(..., stream=True)`` (blocking).

    Iterate it (or `text_deltas`) for the reply as it is written; then
    ``stream.final_completion()`` structures the whole reply.
    """

    def __init__(
        self,
        inner: ChatCompletionStream,
        cls: type[T],
        converter: cattrs.Converter,
        loads: Callable[[str], Any],
    ) -> None:
        super().__init__(cls, converter, loads)
        self._inner = self._stream = inner

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        return iter(self._stream)

    def text_deltas(self) -> Iterator[str]:
        """The text of each chunk that adds some, as it arrives."""
        return self._stream.text_deltas()

    def final_completion(self) -> ParsedChatCompletion[T]:
        """Read the stream to its end and structure the reply.

        Raises:
            StructuredOutputError: the reply was cut off, is not JSON, or does
                not fit the class.
        """
        completion = self._stream.final_completion()
        return parse_completion(completion, self._cls, self._converter, self._loads)

    def close(self) -> None:
        """Close the stream and release its connection."""
        self._stream.close()

    def __enter__(self) -> ParsedChatCompletionStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
