"""`AsyncChatCompletionStream`: the typed chunks of a streamed chat completion.

Bytes come from the transport's `LiveBody` one network read at a time; each
read is decoded whole (`_sse`), every event in it is parsed and structured at
once, and the chunks wait in a list. Iterating then costs a list lookup per
chunk, and the blocking facade takes the whole list across the thread
boundary in one hop (`_next_batch`).

The stream owns its HTTP response and closes it when it is exhausted, on any
error, on ``async with`` exit, on `aclose`, and when an ``async for`` loop over
it is left early (the loop's iterator closes it when it is dropped). Nothing
is ever retried once the response has started.

This module imports neither aiohttp nor asyncio at import time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accumulate import Accumulator
from ._sse import ERROR, SSEDecoder
from ._stream_errors import (
    client_closed,
    interrupted,
    invalid,
    read_failure,
    server_error,
    timed_out,
)
from ._stream_errors import (
    events as _events,
)
from .errors import ClientStateError, StreamInterruptedError
from .types.chat import ChatCompletion, ChatCompletionChunk
from .types.response import RateLimitInfo

if TYPE_CHECKING:
    import asyncio

    import cattrs

    from ._inflight import InFlight
    from ._transport._stream import LiveBody

__all__ = ["AsyncChatCompletionStream"]

_OPEN, _FINISHED, _CLOSED = "open", "finished", "closed"


class AsyncChatCompletionStream:
    """A streamed chat completion: an async iterator of `ChatCompletionChunk`.

    Returned by ``await client.chat.completions.create(..., stream=True)``.
    Iterate it for the chunks, or `text_deltas` for the text alone, or await
    `final_completion` for the same `ChatCompletion` the non-streaming call
    returns. Use it as an async context manager, or iterate it to the end, so
    its connection is released::

        stream = await client.chat.completions.create(model=..., messages=..., stream=True)
        async with stream:
            async for text in stream.text_deltas():
                print(text, end="")

    Leaving an ``async for`` loop early (``break``) closes the stream as well.

    Failures raise typed errors: `APIStreamError` when the server reports an
    error mid-stream, `StreamInterruptedError` when the stream is cut or ends
    before its ``complete`` event, `APITimeoutError` when no event arrives
    within ``idle_timeout`` or the stream outlasts ``stream_timeout``, and
    `ClientStateError` when the client is closed under it or it is read from
    another event loop than the one it was opened on.

    A ``data: [DONE]`` line, which OpenAI-compatible gateways add, ends the
    stream like the end of the response does.
    """

    def __init__(
        self,
        body: LiveBody,
        *,
        loop: asyncio.AbstractEventLoop,
        inflight: InFlight,
        idle_timeout: float | None,
        deadline: float | None,
        max_line_bytes: int,
        retries: int,
        converter: cattrs.Converter,
        loads: Callable[[str], Any],
        on_finish: Callable[[ChatCompletion], None] | None = None,
    ) -> None:
        self._body = body
        self._structure_chunk = converter.get_structure_hook(ChatCompletionChunk)
        self._converter = converter
        self._loads = loads
        self._loop = loop
        self._thread = threading.get_ident()
        self._inflight = inflight
        self._idle_timeout = idle_timeout
        self._deadline = deadline
        self._max_line = max_line_bytes
        self._decoder = SSEDecoder()
        self._accumulator = Accumulator()
        self._pending: list[ChatCompletionChunk] = []
        self._index = 0
        self._error: BaseException | None = None
        self._state = _OPEN
        self._events = 0
        self._retries = retries
        # Told the final completion when the stream ends whole (the rate limit's tokens).
        self._on_finish = on_finish
        inflight.add_stream(self)

    # -- what came with the response -------------------------------------------------

    @property
    def status_code(self) -> int:
        """The HTTP status of the response (200)."""
        return self._body.status

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive)."""
        return self._body.headers

    @property
    def request_id(self) -> str | None:
        """The server's request id, when it sent one."""
        from ._protocol import find_request_id

        return find_request_id(self._body.headers)

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The parsed ``x-ratelimit-*`` headers, or ``None`` when there were none."""
        from ._protocol import parse_rate_limit

        return parse_rate_limit(self._body.headers)

    @property
    def retries(self) -> int:
        """How many times the request was retried before the stream started."""
        return self._retries

    @property
    def closed(self) -> bool:
        """Whether the stream is over, because it was read to its end, failed, or was closed."""
        return self._state != _OPEN

    # -- iteration -------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return _Chunks(self)

    async def __anext__(self) -> ChatCompletionChunk:
        index = self._index
        if index < len(self._pending):
            self._index = index + 1
            return self._pending[index]
        if not await self._fill():
            raise StopAsyncIteration
        self._index = 1
        return self._pending[0]

    def text_deltas(self) -> AsyncIterator[str]:
        """Iterate over the pieces of reply text only, as they arrive.

        Tool-call pieces and empty deltas are skipped; the chunks still count
        towards `final_completion`. Leaving the loop early closes the stream.
        """
        return _TextDeltas(self)

    async def final_completion(self) -> ChatCompletion:
        """Read the rest of the stream and return the whole `ChatCompletion`.

        It is equal to what the same call without ``stream=True`` returns: the
        text joined, tool calls with their argument fragments joined, the stop
        reason and the metrics. Chunks already iterated over count too.

        Raises:
            ClientStateError: the stream was closed before it completed.
        """
        while await self._fill():
            self._index = len(self._pending)
        if not self._accumulator.complete:
            raise ClientStateError("the stream was closed before it completed")
        return self._accumulator.completion()

    async def aclose(self) -> None:
        """Close the stream and its connection; harmless when already closed."""
        self._abort_from_anywhere()

    async def __aenter__(self) -> AsyncChatCompletionStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._abort_from_anywhere()

    def __del__(self) -> None:
        if self._state == _OPEN:
            self._abort_from_anywhere()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state}, {self._events} events>"

    # -- reading -----------------------------------------------------------------------

    async def _next_batch(self) -> list[ChatCompletionChunk]:
        """Every chunk not yet handed out, waiting for at least one; ``[]`` at the end."""
        if self._index >= len(self._pending) and not await self._fill():
            return []
        batch = self._pending[self._index :] if self._index else self._pending
        self._pending, self._index = [], 0
        return batch

    async def _fill(self) -> bool:
        """Read until a chunk is pending; ``False`` once the stream is over."""
        if self._error is not None:
            error, self._error = self._error, None
            self._abort()
            raise error
        if self._state != _OPEN:
            return False
        self._pending, self._index = [], 0
        import asyncio

        loop = self._loop
        if asyncio.get_running_loop() is not loop:
            raise ClientStateError(
                "this stream belongs to the event loop it was opened on; read it there "
                "(a client and its streams serve one event loop)"
            )
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - coroutines run in tasks
            raise ClientStateError("iterate the stream from within an asyncio task")
        idle = self._idle_timeout
        idle_at = None if idle is None else loop.time() + idle
        limits = [at for at in (idle_at, self._deadline) if at is not None]
        limit = min(limits) if limits else None
        inflight = self._inflight
        inflight.enter(task, limit)  # watched even without a limit, for the client's close
        watched = True
        body, decoder = self._body, self._decoder
        try:
            while True:
                data = await body.read()
                if not data:
                    self._end()
                    return False
                try:
                    events = decoder.feed(data)
                except UnicodeDecodeError as exc:
                    raise invalid(body, f"the stream is not valid UTF-8 ({exc.reason})") from None
                if events:
                    failure = self._parse(events)
                    if self._pending:
                        self._error = failure  # raised once the chunks before it are read
                        return True
                    if failure is not None:
                        raise failure
                    if self._state != _OPEN:  # [DONE] ended it
                        return False
                elif decoder.buffered > self._max_line:
                    raise invalid(
                        body,
                        "an event of the stream is longer than max_response_bytes "
                        f"({self._max_line} bytes)",
                    )
        except BaseException as exc:
            watched = False
            ended = inflight.leave(task)
            self._abort()
            if ended == "timeout":
                if limit == idle_at:
                    why = f"no event for {idle:g} s (idle_timeout)"
                else:
                    why = "the stream did not finish within its stream_timeout"
                raise timed_out(body, why, self._events) from None
            if ended == "closed":
                error, self._error = self._error or client_closed(body, self._events), None
                raise error from None
            translated = read_failure(exc, body, self._events)
            if translated is exc:
                raise
            raise translated from exc
        finally:
            if watched:
                inflight.leave(task)

    def _parse(self, events: list[tuple[str | None, str]]) -> BaseException | None:
        """Structure *events* into pending chunks; return the error that stops them, if any."""
        pending = self._pending
        structure_chunk, loads = self._structure_chunk, self._loads
        add = self._accumulator.add
        for kind, data in events:
            if kind == ERROR:
                return server_error(self._body, data, self._events)
            try:
                decoded = loads(data)
            except ValueError as exc:
                if data == "[DONE]":
                    return self._at_done()
                return invalid(self._body, f"event {self._events + 1} is not valid JSON: {exc}")
            try:
                chunk = structure_chunk(decoded, ChatCompletionChunk)
            except Exception:  # worded field by field by a detailed pass
                from ._converter import StructureError, structure

                try:
                    chunk = structure(self._converter, decoded, ChatCompletionChunk)
                except StructureError as exc:
                    message = f"event {self._events + 1} is not a valid chunk: {exc}"
                    return invalid(self._body, message)
            add(chunk)
            pending.append(chunk)
            self._events += 1
        return None

    def _at_done(self) -> StreamInterruptedError | None:
        """``data: [DONE]``: the end, as a gateway says it; events after it are ignored."""
        if self._accumulator.complete:
            self._state = _FINISHED
            self._body.release()
            self._finished()
            return None
        events = self._events
        why = f"the stream ended with [DONE] after {_events(events)}, without its 'complete' event"
        return interrupted(self._body, why, events)

    def _finished(self) -> None:
        on_finish, self._on_finish = self._on_finish, None
        if on_finish is not None:
            on_finish(self._accumulator.completion())

    def _end(self) -> None:
        """The response ended: finished if it was whole, an error if not."""
        body, events = self._body, self._events
        if self._decoder.finish():
            why = f"the stream was cut off in the middle of an event, after {_events(events)}"
        elif not self._accumulator.complete:
            why = f"the stream ended after {_events(events)} without its 'complete' event"
        else:
            self._state = _FINISHED
            body.release()
            self._finished()
            return
        self._abort()
        raise interrupted(body, why, events)

    # -- closing -----------------------------------------------------------------------

    def _client_closed(self) -> None:
        """The client is closing (on the loop's thread): end the stream; its next read raises."""
        if self._state == _OPEN:
            error = self._error or client_closed(self._body, self._events)
            self._abort()
            self._error = error

    def _abort(self) -> None:
        """Close the connection unless the stream already ended; on the loop's thread."""
        if self._state == _OPEN:
            self._state = _CLOSED
            self._pending, self._index = [], 0
            self._body.close()

    def _abort_from_anywhere(self) -> None:
        """`_abort` from any thread, as a garbage-collected iterator needs."""
        if threading.get_ident() == self._thread:
            self._abort()
        elif not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed just now
                self._loop.call_soon_threadsafe(self._abort)


class _Chunks:
    """The iterator behind ``async for chunk in stream``; dropping it early closes the stream."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncChatCompletionStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        # The stream's own fast path, inlined: awaiting stream.__anext__() would
        # create a second coroutine for every chunk.
        stream = self._stream
        index = stream._index
        if index < len(stream._pending):
            stream._index = index + 1
            return stream._pending[index]
        return await stream.__anext__()

    def __del__(self) -> None:
        if self._stream._state == _OPEN:
            self._stream._abort_from_anywhere()


class _TextDeltas:
    """The iterator behind `AsyncChatCompletionStream.text_deltas`."""

    __slots__ = ("_chunks",)

    def __init__(self, stream: AsyncChatCompletionStream) -> None:
        self._chunks = _Chunks(stream)

    def __aiter__(self) -> _TextDeltas:
        return self

    async def __anext__(self) -> str:
        chunks = self._chunks
        while True:
            text = (await chunks.__anext__()).text
            if text:
                return text
