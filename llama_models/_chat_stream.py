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
import json
import threading
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accumulate import Accumulator
from ._sse import ERROR, SSEDecoder
from .errors import (
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    ClientStateError,
    StreamInterruptedError,
)
from .types.chat import ChatCompletion, ChatCompletionChunk
from .types.response import RateLimitInfo

if TYPE_CHECKING:
    import asyncio

    from ._deadline import Deadlines
    from ._transport._stream import LiveBody

__all__ = ["AsyncChatCompletionStream"]

_OPEN, _FINISHED, _CLOSED = "open", "finished", "closed"
_decode = json.JSONDecoder().decode


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
    within ``idle_timeout`` or the stream outlasts ``stream_timeout``.
    """

    def __init__(
        self,
        body: LiveBody,
        *,
        loop: asyncio.AbstractEventLoop,
        deadlines: Deadlines,
        idle_timeout: float | None,
        deadline: float | None,
        max_line_bytes: int,
        retries: int,
    ) -> None:
        self._body = body
        self._loop = loop
        self._thread = threading.get_ident()
        self._deadlines = deadlines
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
        self._abort()

    async def __aenter__(self) -> AsyncChatCompletionStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._abort()

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
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - coroutines run in tasks
            raise ClientStateError("iterate the stream from within an asyncio task")
        idle = self._idle_timeout
        idle_at = None if idle is None else loop.time() + idle
        limits = [at for at in (idle_at, self._deadline) if at is not None]
        limit = min(limits) if limits else None
        watched = limit is not None
        if limit is not None:
            self._deadlines.enter(task, limit)
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
                    raise self._invalid(f"the stream is not valid UTF-8 ({exc.reason})") from None
                if events:
                    failure = self._parse(events)
                    if self._pending:
                        self._error = failure  # raised once the chunks before it are read
                        return True
                    if failure is not None:
                        raise failure
                elif decoder.buffered > self._max_line:
                    raise self._invalid(
                        "an event of the stream is longer than max_response_bytes "
                        f"({self._max_line} bytes)"
                    )
        except BaseException as exc:
            timed_out = watched and self._deadlines.leave(task)
            watched = False
            self._abort()
            if timed_out:
                raise self._timeout(idle_fired=limit == idle_at) from None
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc
        finally:
            if watched:
                self._deadlines.leave(task)

    def _parse(self, events: list[tuple[str | None, str]]) -> BaseException | None:
        """Structure *events* into pending chunks; return the error that stops them, if any."""
        from ._converter import structure

        pending = self._pending
        add = self._accumulator.add
        for kind, data in events:
            if kind == ERROR:
                return self._server_error(data)
            try:
                chunk = structure(_decode(data), ChatCompletionChunk)
            except ValueError as exc:
                return self._invalid(f"event {self._events + 1} is not a valid chunk: {exc}")
            add(chunk)
            pending.append(chunk)
            self._events += 1
        return None

    def _end(self) -> None:
        """The response ended: finished if it was whole, an error if not."""
        body, events = self._body, self._events
        if self._decoder.finish():
            why = f"the stream was cut off in the middle of an event, after {events} events"
        elif not self._accumulator.complete:
            why = f"the stream ended after {events} events without its 'complete' event"
        else:
            self._state = _FINISHED
            body.release()
            return
        self._abort()
        raise StreamInterruptedError(
            f"{body.method} {body.url}: {why}",
            events_received=events,
            method=body.method,
            url=body.url,
        )

    # -- errors ------------------------------------------------------------------------

    def _translate(self, exc: BaseException) -> BaseException:
        from ._transport._stream import StreamReadFailed

        if not isinstance(exc, StreamReadFailed):
            return exc
        body = self._body
        message = f"{body.method} {body.url}: {exc.reason} after {self._events} events"
        if exc.timeout:
            return APITimeoutError(message, method=body.method, url=body.url)
        return StreamInterruptedError(
            message, events_received=self._events, method=body.method, url=body.url
        )

    def _timeout(self, *, idle_fired: bool) -> APITimeoutError:
        body = self._body
        if idle_fired:
            why = f"no event for {self._idle_timeout:g} s (idle_timeout)"
        else:
            why = "the stream did not finish within its stream_timeout"
        return APITimeoutError(
            f"{body.method} {body.url}: {why}, after {self._events} events",
            method=body.method,
            url=body.url,
        )

    def _server_error(self, data: str) -> APIStreamError:
        from ._protocol import error_message, excerpt, find_request_id

        body = self._body
        try:
            payload: Any = json.loads(data)
        except ValueError:
            payload = excerpt(data.encode())
        status = payload.get("status") if isinstance(payload, dict) else None
        return APIStreamError(
            f"the server reported an error mid-stream: {error_message(500, payload)}",
            body=payload,
            status_code=status
            if isinstance(status, int) and not isinstance(status, bool)
            else None,
            events_received=self._events,
            request_id=find_request_id(body.headers),
            method=body.method,
            url=body.url,
        )

    def _invalid(self, message: str) -> APIResponseValidationError:
        from ._protocol import invalid_response

        body = self._body
        return invalid_response(
            f"{body.method} {body.url}: {message}",
            body.status,
            body.headers,
            None,
            body.method,
            body.url,
        )

    # -- closing -----------------------------------------------------------------------

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
