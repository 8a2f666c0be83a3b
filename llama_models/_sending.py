"""How a client sends: its transport, started by the first call, and the calls and streams on it.

`Sender` is the half of `AsyncLlamaClient` that resources call (``_request``,
``_stream``, ``_codec``): the client's public surface lives in `_client`.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._config import ClientConfig, validate_idle_timeout, validate_timeout
from ._protocol import RequestSpec
from .errors import ClientStateError
from .types.response import APIResponse

if TYPE_CHECKING:
    import aiohttp
    import cattrs

    from ._chat_stream import AsyncChatCompletionStream
    from ._instrument import Instrumentation
    from ._transport import Transport

T = TypeVar("T")

__all__ = ["Sender"]


class Sender:
    """Starts a client's transport and sends its calls and streams through it."""

    _config: ClientConfig
    _telemetry: Instrumentation | None
    _http_session: aiohttp.ClientSession | None
    # The client that owns the connection pool, for a client made by with_options.
    _parent: Sender | None
    _transport: Transport | None
    _closed: bool
    _lock: threading.Lock

    async def _start(self) -> Transport:
        """The transport, created by the first call.

        aiohttp and cattrs load with the first call rather than at import, and
        loading them takes a good tenth of a second: long enough to stall every
        other task of a service if it ran on the event loop. So it runs in the
        loop's default executor, and the loop goes on meanwhile.
        """
        import asyncio

        if self._closed:
            raise ClientStateError("this client is closed; create a new client")
        if self._parent is not None:  # shares the parent's pool, started by it
            owner = self._parent._transport or await self._parent._start()
            with self._lock:
                if self._closed:
                    raise ClientStateError("this client is closed; create a new client")
                if self._transport is None:
                    self._transport = owner.derive(self._config)
                return self._transport
        if "llama_models._transport" in sys.modules:
            created = _new_transport(self._config, self._http_session)
        else:
            created = await asyncio.get_running_loop().run_in_executor(
                None, _new_transport, self._config, self._http_session
            )
        with self._lock:  # two threads may make a first call at the same moment
            if self._closed:
                raise ClientStateError("this client is closed; create a new client")
            if self._transport is None:
                self._transport = created
            return self._transport

    async def _first_request(
        self, spec: RequestSpec, cls: type[T], options: Mapping[str, Any]
    ) -> APIResponse[T]:
        transport = self._transport or await self._start()
        if self._telemetry is not None:
            return await self._telemetry._request(
                spec,
                self._config.base_url,
                functools.partial(transport.request, spec, cls, options),
            )
        return await transport.request(spec, cls, options)

    async def _codec(self) -> tuple[cattrs.Converter, Callable[[str], Any]]:
        """The converter and JSON decoder of this client (starting it if need be)."""
        transport = self._transport or await self._start()
        return transport.converter, transport.loads_text

    async def _stream(
        self, spec: RequestSpec, options: Mapping[str, Any]
    ) -> AsyncChatCompletionStream:
        if self._telemetry is not None:
            opening = functools.partial(self._open_stream, spec, options)
            return await self._telemetry._stream(spec, self._config.base_url, opening)
        return await self._open_stream(spec, options, None)

    async def _open_stream(
        self,
        spec: RequestSpec,
        options: Mapping[str, Any],
        stream_class: type[AsyncChatCompletionStream] | None,
    ) -> AsyncChatCompletionStream:
        import asyncio

        idle_timeout = options.get("idle_timeout")
        stream_timeout = options.get("stream_timeout")
        config = self._config
        idle = config.idle_timeout if idle_timeout is None else validate_idle_timeout(idle_timeout)
        loop = asyncio.get_running_loop()
        deadline = None
        if stream_timeout is not None:
            deadline = loop.time() + validate_timeout(stream_timeout, "stream_timeout")
        transport = self._transport or await self._start()
        # Loaded with the transport, off the loop (see _start).
        from ._chat_stream import AsyncChatCompletionStream

        body, retries, finish = await transport.open_stream(spec, options, deadline)
        return (stream_class or AsyncChatCompletionStream)(
            body,
            loop=loop,
            inflight=transport.inflight(),
            idle_timeout=idle,
            deadline=deadline,
            max_line_bytes=config.max_response_bytes,
            retries=retries,
            converter=transport.converter,
            loads=transport.loads_text,
            on_finish=finish,
        )

    def _request(
        self, spec: RequestSpec, cls: type[T], options: Mapping[str, Any]
    ) -> Coroutine[Any, Any, APIResponse[T]]:
        # A plain function returning the transport's coroutine: one frame fewer to
        # re-enter each time a request resumes.
        transport = self._transport
        if transport is None or self._telemetry is not None:
            return self._first_request(spec, cls, options)
        return transport.request(spec, cls, options)


def _new_transport(config: ClientConfig, session: aiohttp.ClientSession | None) -> Transport:
    from ._chat_stream import AsyncChatCompletionStream  # noqa: F401 - loaded here, off the loop
    from ._transport import Transport  # aiohttp and cattrs load on first use

    return Transport(config, session)
