"""`LlamaClient`: the blocking facade over `AsyncLlamaClient`.

Every method is a one-line call into the client's `Portal` and has the same
signature and docstring as its async twin (a test compares them).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

from .._client import AsyncLlamaClient, refuse_pickling
from .._config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from .._hooks import RequestHook
from .._options import BodyOptions, ClientOptions, RequestOptions, Unpack
from ._twin import twin
from .chat import Chat
from .models import Models
from .moderations import Moderations
from .uploads import Uploads

if TYPE_CHECKING:
    import os
    from ssl import SSLContext

    import cattrs

    from .._portal import Portal
    from .._ratelimit._settings import RateLimit
    from ..otel import Telemetry
    from ..types.batch import BatchProgress
    from ._batch import Batch

T = TypeVar("T")

__all__ = ["LlamaClient"]


class LlamaClient:
    """The blocking client for the Llama API.

    It runs an `AsyncLlamaClient` on a private event loop thread (an anyio
    blocking portal), so it can be used from scripts, from several threads at
    once, and from inside a running event loop such as a Jupyter cell. Close it
    with `close` or ``with``; one that is never closed is cleaned up once
    neither it nor anything taken from it (a resource, an open stream) is
    referenced any more, or when the interpreter exits. A client that has made
    no call yet may be inherited by forked child processes (a module-level
    client in a ``multiprocessing`` or gunicorn worker); one that has made
    calls cannot: create a new client in the child.

    ::

        with LlamaClient() as client:
            model = client.models.retrieve("Llama-3.3-70B-Instruct")

    The arguments are those of `AsyncLlamaClient`, without *http_session* (an
    aiohttp session belongs to one event loop, and this client owns its loop).
    Its *hooks* run on that event loop's thread, not on the thread making the
    call, and so does the telemetry's span handling. A client made by
    `with_options` shares this one's loop thread and connections.
    """

    models: Models
    """The Models API, with ``list`` and ``retrieve``."""

    chat: Chat
    """The Chat API, with ``chat.completions.create``, plain or streamed."""

    moderations: Moderations
    """The Moderations API, with ``create``."""
    uploads: Uploads
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
        inner = AsyncLlamaClient(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            idle_timeout=idle_timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            default_headers=default_headers,
            max_response_bytes=max_response_bytes,
            allow_insecure_http=allow_insecure_http,
            log_bodies=log_bodies,
            converter=converter,
            rate_limit=rate_limit,
            hooks=hooks,
            hook_bodies=hook_bodies,
            telemetry=telemetry,
            default_query=default_query,
            proxy=proxy,
            ssl=ssl,
        )
        from .._portal import Portal  # asyncio is imported with the first blocking client

        self._attach(inner, Portal(inner.aclose))

    def _attach(self, inner: AsyncLlamaClient, portal: Portal) -> None:
        self._async = inner
        # Everything below holds the portal, which keeps the loop thread alive.
        self._portal = portal
        self.models = Models(self._portal, self._async.models)
        self.chat = Chat(self._portal, self._async.chat)
        self.moderations = Moderations(self._portal, self._async.moderations)
        self.uploads = Uploads(self._portal, self._async.uploads)

    @property
    def base_url(self) -> str:
        """The API root every path is appended to (always ending in ``/``)."""
        return self._async.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed call may be retried."""
        return self._async.max_retries

    @property
    def timeout(self) -> float | None:
        """Seconds one call may take in all, retries included; ``None`` for no overall limit."""
        return self._async.timeout

    @property
    def closed(self) -> bool:
        """Whether `close` has been called (for a derived client: on it or on its parent)."""
        return self._portal.closed or self._async.closed

    @twin(AsyncLlamaClient.with_options)
    def with_options(self, **options: Unpack[ClientOptions]) -> LlamaClient:
        child = object.__new__(type(self))
        child._attach(self._async.with_options(**options), self._portal)
        return child

    @twin(AsyncLlamaClient.copy)
    def copy(self, **options: Unpack[ClientOptions]) -> LlamaClient:
        return self.with_options(**options)

    @twin(AsyncLlamaClient.get)
    def get(self, path: str, *, cast_to: type[T], **options: Unpack[RequestOptions]) -> T:
        result: T = self._portal.call(self._async.get, path, cast_to=cast_to, **options)
        return result

    @twin(AsyncLlamaClient.post)
    def post(
        self,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        **options: Unpack[BodyOptions],
    ) -> T:
        result: T = self._portal.call(self._async.post, path, cast_to=cast_to, body=body, **options)
        return result

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r})"
        )

    def __reduce__(self) -> NoReturn:
        refuse_pickling("a LlamaClient")

    @twin(AsyncLlamaClient.batch)
    def batch(
        self,
        requests: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 16,
        ordered: bool = False,
        on_progress: Callable[[BatchProgress], object] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Batch:
        from ._batch import Batch

        return Batch(
            self._portal,
            self._async.batch(
                requests,
                concurrency=concurrency,
                ordered=ordered,
                on_progress=on_progress,
                **options,
            ),
        )

    def close(self) -> None:
        """End the calls in flight, close the HTTP session and stop the event loop thread.

        Calls still running in other threads raise `ClientStateError`, and so do
        open streams; calls made afterwards raise it too. Closing twice is
        harmless. Ctrl-C gets out of a close that hangs. Closing a client made
        by `with_options` leaves its parent, the loop thread and their shared
        connections running, and lets its own calls in flight finish.
        """
        if self._async._parent is not None:
            self._async._detach()
            return
        self._portal.close()

    def __enter__(self) -> LlamaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
