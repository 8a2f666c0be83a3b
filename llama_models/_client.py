"""`AsyncLlamaClient`: settings, a lazily created transport, and the resource namespaces."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

from ._config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    resolve_config,
)
from ._hooks import RequestHook
from ._options import BodyOptions, ClientOptions, RequestOptions, Unpack
from ._resources.chat import AsyncChat
from ._resources.models import AsyncModels
from ._resources.moderations import AsyncModerations
from ._resources.uploads import AsyncUploads
from ._sending import Sender
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    import os
    from ssl import SSLContext

    import aiohttp
    import cattrs

    from ._batch import AsyncBatch
    from ._instrument import Instrumentation
    from ._ratelimit._settings import RateLimit
    from ._transport import Transport
    from .otel import Telemetry
    from .types.batch import BatchProgress

T = TypeVar("T")

__all__ = ["AsyncLlamaClient", "refuse_pickling"]

#: A batch's per-call options, as the settings of the derived client that sends its requests.
_BATCH_SETTINGS = {
    "timeout": "timeout",
    "max_retries": "max_retries",
    "extra_headers": "default_headers",
    "extra_query": "default_query",
}


def refuse_pickling(what: str) -> NoReturn:
    """Raise the `TypeError` that pickling or copying a client (*what*) gets."""
    raise TypeError(
        f"cannot pickle {what}: its connections and event loop belong to this "
        "process; create a client in each process (in a worker pool, in its initializer)"
    )


class AsyncLlamaClient(Sender):
    """The asynchronous client for the Llama API.

    One client holds one pooled :class:`aiohttp.ClientSession`, created on the
    running event loop at the first call and closed by `aclose` or by leaving
    ``async with``. Create one per event loop and reuse it: it is safe to use
    from many tasks at once. For blocking code use `LlamaClient`.

    ::

        async with AsyncLlamaClient() as client:
            for model in await client.models.list():
                print(model.id)

    Args:
        api_key: the API key; ``LLAMA_API_KEY`` from the environment when ``None``.
            It must be printable ASCII without whitespace and is never shown in a
            message, ``repr`` or log line.
        base_url: the API root; ``LLAMA_API_BASE_URL`` or
            ``LLAMA_API_CLIENT_BASE_URL`` when ``None``, else
            ``https://api.llama.com/v1``. Credentials in the URL are refused, and so
            is plain ``http://`` to anything but loopback unless
            *allow_insecure_http* is true.
        timeout: seconds one call may take in all, retries and waits included.
            ``None`` sets no overall limit: only *connect_timeout*,
            *read_timeout* and, for streams, *idle_timeout* then apply. The
            default is finite (120 s) so that a call to a server that accepted
            the request and then hangs still ends.
        connect_timeout: seconds to establish one connection.
        read_timeout: seconds the server may stay silent while answering; a
            silent GET is then retried. ``None`` leaves only *timeout*.
        idle_timeout: seconds a stream may go without an event (keep-alive
            comments do not count); ``None`` for no limit.
        max_retries: how many times a failed call may be retried (the retry
            policy in the errors guide says which failures qualify).
        max_connections: the size of the connection pool. More calls than this
            at once wait for a free connection, within their *timeout*. Ignored
            with *http_session*, whose own connector decides.
        default_headers: headers added to every request.
        http_session: an :class:`aiohttp.ClientSession` of yours to send requests
            through. The client never closes it.
        max_response_bytes: the largest response body the client will read.
        allow_insecure_http: allow plain ``http://`` to a non-loopback host.
        log_bodies: log request and response bodies at DEBUG level (off by default,
            since they may hold personal data).
        converter: the cattrs converter that turns JSON into objects and back
            (see `make_converter`); ``llama_models.converter`` when ``None``.
        rate_limit: a `RateLimit` that chat completions and moderations wait
            for instead of running into HTTP 429 (see the bulk jobs guide);
            ``None`` for none.
        hooks: plain callables, each called with a `RequestAttempt` after every
            attempt of every call (see the observability guide). They run on
            the event loop sending the request; one that raises is logged and
            the call goes on. Coroutine functions are refused.
        hook_bodies: give the hooks the request and response bodies (off by
            default, since they may hold personal data).
        telemetry: a `llama_models.otel.Telemetry` to trace every call and
            record its metrics with OpenTelemetry (``pip install
            llama-models-client[otel]``).
        default_query: query parameters added to every request's URL.
        proxy: the URL of an HTTP proxy for every request, overriding the
            environment; ``False`` for none; ``None`` to read ``HTTPS_PROXY``,
            ``ALL_PROXY`` and ``NO_PROXY`` once, now.
        ssl: the certificates to trust: an :class:`ssl.SSLContext`, or the path
            of a CA bundle (PEM) such as a corporate CA's; the system's when
            ``None``. Not with *http_session*.
    """

    models: AsyncModels
    """The Models API, with ``list`` and ``retrieve``."""

    chat: AsyncChat
    """The Chat API, with ``chat.completions.create``, plain or streamed."""

    moderations: AsyncModerations
    """The Moderations API, with ``create``."""
    uploads: AsyncUploads
    """The Uploads API, with ``upload_file``, and ``create``, ``part`` and ``get``."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        default_headers: Mapping[str, str] | None = None,
        http_session: aiohttp.ClientSession | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_insecure_http: bool = False,
        log_bodies: bool = False,
        converter: cattrs.Converter | None = None,
        rate_limit: RateLimit | None = None,
        hooks: Iterable[RequestHook] | None = None,
        hook_bodies: bool = False,
        telemetry: Telemetry | None = None,
        default_query: Mapping[str, str] | None = None,
        proxy: str | Literal[False] | None = None,
        ssl: SSLContext | str | os.PathLike[str] | None = None,
    ) -> None:
        if http_session is not None and ssl is not None:
            raise InvalidArgumentError(
                "ssl applies to the client's own connections; with http_session, give your "
                "session's connector the SSL context instead"
            )
        config = resolve_config(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            default_headers=default_headers,
            max_response_bytes=max_response_bytes,
            allow_insecure_http=allow_insecure_http,
            log_bodies=log_bodies,
            idle_timeout=idle_timeout,
            converter=converter,
            rate_limit=rate_limit,
            default_query=default_query,
            proxy=proxy,
            ssl=ssl,
        )
        instrumentation: Instrumentation | None = None
        if hooks is not None or hook_bodies or telemetry is not None:
            from ._instrument import observe

            config, instrumentation = observe(config, hooks, hook_bodies, telemetry)
        self._setup(config, http_session, None, instrumentation)

    def _setup(
        self,
        config: ClientConfig,
        http_session: aiohttp.ClientSession | None,
        parent: AsyncLlamaClient | None,
        telemetry: Instrumentation | None,
    ) -> None:
        self._config: ClientConfig = config
        self._telemetry = telemetry
        self._http_session = http_session
        # The client that owns the connection pool, for a client made by with_options.
        self._parent: AsyncLlamaClient | None = parent
        self._transport: Transport | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.models = AsyncModels(self)
        self.chat = AsyncChat(self)
        self.moderations = AsyncModerations(self)
        self.uploads = AsyncUploads(self)

    @property
    def base_url(self) -> str:
        """The API root every path is appended to (always ending in ``/``)."""
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed call may be retried."""
        return self._config.max_retries

    @property
    def timeout(self) -> float | None:
        """Seconds one call may take in all, retries included; ``None`` for no overall limit."""
        return self._config.timeout

    @property
    def closed(self) -> bool:
        """Whether `aclose` has been called (for a derived client: on it or on its parent)."""
        return self._closed or (self._parent is not None and self._parent.closed)

    def with_options(self, **options: Unpack[ClientOptions]) -> AsyncLlamaClient:
        """A client with other settings that shares this one's connection pool.

        The settings given replace this client's, ``default_headers`` and
        ``default_query`` are added to its own, and the rest are kept. Making
        one is cheap (no session, no connections), so a loop may make one per
        call. Closing it leaves this client working; closing this client closes
        the connections of every client derived from it, whose calls then raise
        `ClientStateError`.

        ::

            patient = client.with_options(timeout=600, max_retries=5)

        Args:
            **options: any of ``timeout``, ``connect_timeout``, ``read_timeout``,
                ``idle_timeout``, ``max_retries``, ``default_headers``,
                ``default_query``, ``max_response_bytes``, ``log_bodies`` and
                ``converter``, as for the client itself.
        """
        from ._derived import derived_config

        child = object.__new__(type(self))
        child._setup(
            derived_config(self._config, options),
            self._http_session,
            self._parent or self,
            self._telemetry,
        )
        return child

    def copy(self, **options: Unpack[ClientOptions]) -> AsyncLlamaClient:
        """The same as `with_options`, under the name llama-api-client and openai also use."""
        return self.with_options(**options)

    async def get(self, path: str, *, cast_to: type[T], **options: Unpack[RequestOptions]) -> T:
        """Send ``GET`` to an endpoint this SDK does not wrap yet, and structure the answer.

        The request goes through the client's transport: its retries, deadline,
        headers and error mapping.

        Args:
            path: the path under ``base_url``, such as ``"models"``; it may not
                leave ``base_url`` (no ``..``, no other host, no query: use
                ``extra_query``).
            cast_to: what to structure the JSON answer into, by the client's
                converter: an attrs class, a dataclass, ``dict``; or ``bytes``
                for the body as it is.
            **options: the per-call options (``timeout``, ``max_retries``,
                ``extra_headers``, ``extra_query``).
        """
        from ._derived import custom_spec

        response = await self._request(custom_spec("GET", path, None), cast_to, options)
        return response.data

    async def post(
        self,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        **options: Unpack[BodyOptions],
    ) -> T:
        """Send ``POST`` to an endpoint this SDK does not wrap yet, and structure the answer.

        As `get`, with a JSON *body*. A POST is retried only when nothing reached
        the server, or on 429, as every POST of the client.

        Args:
            path: the path under ``base_url``, as for `get`.
            cast_to: what to structure the answer into, as for `get`.
            body: the JSON body, as a dict (SDK objects in it are unstructured).
            **options: the per-call options, ``extra_body`` included.
        """
        from ._derived import custom_spec

        spec = custom_spec("POST", path, body, options.get("extra_body"))
        response = await self._request(spec, cast_to, options)
        return response.data

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r})"
        )

    def __reduce__(self) -> NoReturn:
        refuse_pickling("an AsyncLlamaClient")

    def batch(
        self,
        requests: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 16,
        ordered: bool = False,
        on_progress: Callable[[BatchProgress], object] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncBatch:
        """Run many chat completions and moderations at once, yielding each result as it ends.

        The API has no batch endpoint: a batch is many ordinary calls, at most
        *concurrency* at a time, each through ``chat.completions.create`` or
        ``moderations.create`` with this client's checks, retries, timeouts and
        rate limits. The requests are pulled from *requests* only as calls can
        start, so a generator over a huge file is fine: memory stays flat.
        A request that fails does not end the batch; its `BatchResult` carries
        the error. Iterate the result in ``async with`` (``with`` on the blocking
        client), so that leaving early cancels the calls in flight::

            async with client.batch(requests, concurrency=8) as results:
                async for result in results:
                    print(result.custom_id, result.response or result.error)

        Args:
            requests: `BatchRequest` objects, or dicts in the batch-file shape
                ``{"custom_id": "q1", "body": {"model": ..., "messages": [...]}}``
                (optionally with ``"method": "POST"`` and ``"url":
                "/v1/chat/completions"`` or ``"/v1/moderations"``); a list, an
                iterator or an async iterator. A malformed request or body
                becomes that request's `InvalidArgumentError`, sent nothing;
                so does ``"stream": true``.
            concurrency: the most calls in flight at once.
            ordered: yield the results in the order of *requests* rather than
                as they end. At most ``2 * concurrency`` results are then held
                back waiting for an earlier one.
            on_progress: called with a `BatchProgress` after each request ends,
                on the event loop (the client's own thread for `LlamaClient`):
                keep it quick.
            **options: the per-call options (``timeout``, ``max_retries``,
                ``extra_headers``, ``extra_query``), for every request of the
                batch; fields of a body the method has no argument for go in its
                ``extra_body``.

        Returns:
            An `AsyncBatch` of `BatchResult` (a `Batch` on the blocking client).
        """
        from ._batch import AsyncBatch

        client = self
        if options:  # every request with them: a derived client, on this one's pool
            from ._options import check_keys

            check_keys(options, frozenset(RequestOptions.__optional_keys__), "batch")
            settings: dict[str, Any] = {}
            for name, setting in _BATCH_SETTINGS.items():
                if name in options:
                    settings[setting] = options[name]  # type: ignore[literal-required]
            client = self.with_options(**settings)
        return AsyncBatch(
            client, requests, concurrency=concurrency, ordered=ordered, on_progress=on_progress
        )

    async def aclose(self) -> None:
        """End the calls in flight and close the HTTP session (unless it was given as *http_session*).

        Calls still running raise `ClientStateError`, and so do open streams at
        their next read; calls made afterwards raise it too. Closing twice is
        harmless. Closing a client made by `with_options` leaves its parent and
        their shared connections open, and lets its own calls in flight finish.
        """
        if self._parent is not None:
            self._detach()
            return
        with self._lock:
            transport = self._transport
            if transport is None:
                self._closed = True
        if transport is not None:
            await transport.aclose()  # refuses a call from the wrong loop
            self._closed = True

    def _detach(self) -> None:
        """Close a derived client: only it, not the pool it shares (from any thread)."""
        with self._lock:
            self._closed = True
            self._transport = None

    async def __aenter__(self) -> AsyncLlamaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
