"""`FakeLlamaAPI`: a loopback aiohttp.web server that speaks the Llama API wire format."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from ._fault_actions import apply_fault
from ._faults import STREAM_KINDS, Fault, QueuedFault
from ._ledger import Ledger
from ._limiter import RateLimiter
from ._limits import RateLimitRule, RateLimitStats
from ._models import DEFAULT_MODELS, ModelTable, synthetic_models
from ._recording import ConnectionTracker, RecordedRequest
from ._replies import ChatReply, ReplyQueue
from ._responder import Responder
from ._routes import ROUTES, Router
from ._threaded import BackgroundLoop
from ._uploads import UploadedFile, UploadStore

__all__ = ["FakeLlamaAPI"]

# Stalled handlers are released before aiohttp waits for them, so this only bounds a
# handler that ignores the release; it is the worst case for a test's teardown.
_SHUTDOWN_TIMEOUT = 2.0
# Room for the upload parts that later endpoints accept.
_MAX_BODY = 64 * 1024 * 1024


class FakeLlamaAPI:
    """A fake of the hosted Llama API on a loopback port, for tests and benchmarks.

    It serves the real wire format (``GET /v1/models`` and ``GET /v1/models/{model}``,
    ``POST /v1/chat/completions``, whole or streamed as server-sent events, and
    ``POST /v1/moderations``; bearer-key auth, request validation, ``x-ratelimit-*``
    headers, JSON error bodies), records every request it receives, and misbehaves on
    cue through :meth:`enqueue` and :class:`Fault`. Upload sessions (``POST /v1/uploads``,
    ``GET`` and ``POST /v1/uploads/{upload_id}``) keep real offsets, and :attr:`files`
    holds the files they complete.

    Chat completions answer with the :class:`ChatReply` values queued by
    :meth:`enqueue_replies`, first in, first out, or else with a deterministic default: a
    JSON instance of a ``json_schema`` response format; after a user turn with tools, a
    call of the chosen (or first) tool; after a tool result, ``The tool returned:
    <content>``; otherwise ``You said: <last user text>``. ``max_completion_tokens`` cuts
    a default text to that many words (stop reason ``length``). Tokens are counted as
    words and come off ``x-ratelimit-remaining-tokens``; limits are enforced only with a
    :class:`RateLimitRule`. Moderations flag the categories
    a small keyword table finds (``privacy`` for "password", ``self-harm`` for "hurt
    myself", …).

    Run it on the current event loop with ``async with FakeLlamaAPI() as api:``, or on a
    background thread with its own loop with ``with FakeLlamaAPI() as api:`` (which also
    serves blocking clients). An instance serves once: start it, use it, stop it.

    Args:
        api_key: The key clients must send as ``Authorization: Bearer <api_key>``.
        models: Model objects (``id``, ``created``, ``object``, ``owned_by``) to serve;
            defaults to the four documented Llama models.
        host: The interface to listen on.
        port: The port to listen on; ``0`` picks a free one.
        send_request_id: Add ``x-request-id: req_<32 hex digits>`` to every response.
            The real API documents no request-id header, so this is off by default.
        rate_limit: Enforce this limit on chat completions, per model; then only they
            carry ``x-ratelimit-*`` headers. Without it, every answer reports a 60 s
            window of 3,000 requests and 2,500,000 tokens that is never enforced.
        clock: Seconds for the rate-limit windows (default ``time.monotonic``); a
            callable a test advances itself slides the window without sleeping.

    Attributes:
        app: The underlying :class:`aiohttp.web.Application`, for mounting the fake in
            an aiohttp server of your own instead of calling :meth:`start`.
    """

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        models: Iterable[Mapping[str, Any]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        send_request_id: bool = False,
        rate_limit: RateLimitRule | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self._limits = RateLimiter(rate_limit, clock)  # checks its arguments first
        self._api_key = api_key
        self._api_key_bytes = api_key.encode()
        self._host = host
        self._port = port
        self._send_request_id = send_request_id
        self._table = ModelTable.build(DEFAULT_MODELS if models is None else models)
        self._synthetic_next = 1
        self._connections = ConnectionTracker()
        self._lock = threading.Lock()  # guards the model table
        self._ledger = Ledger()
        self._replies = ReplyQueue()
        self._uploads = UploadStore()
        self._responder = Responder(
            self._api_key_bytes, Router(ROUTES), self._limits, self._replies, self._uploads
        )
        self._released: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bound_port: int | None = None
        self._started = False
        self._background: BackgroundLoop | None = None

        self.app: web.Application = web.Application(client_max_size=_MAX_BODY)
        """The aiohttp application, for embedding the fake in your own aiohttp server."""
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.app.on_startup.append(self._on_startup)
        self.app.on_shutdown.append(self._on_shutdown)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening on the running event loop; return once the port is bound.

        Raises:
            RuntimeError: The server was started before (instances serve once).
            OSError: The address could not be bound.
        """
        if self._started:
            raise RuntimeError("a FakeLlamaAPI serves once; create a new one to serve again")
        self._started = True
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._bound_port = int(runner.addresses[0][1])
        self._loop = asyncio.get_running_loop()
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening, cut stalled requests loose and close every connection.

        Does nothing when the server is not running. Must run on the loop that started it.
        """
        runner = self._runner
        if runner is None:
            return
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError("stop the server on the event loop that started it")
        self._runner = None
        if self._released is not None:
            self._released.set()
        await runner.cleanup()

    async def __aenter__(self) -> FakeLlamaAPI:
        """Start the server on the running event loop (see :meth:`start`)."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server (see :meth:`stop`)."""
        await self.stop()

    def __enter__(self) -> FakeLlamaAPI:
        """Start the server on a background daemon thread; return once it listens.

        The thread runs its own event loop, so the server answers blocking clients and
        clients on any other event loop alike.
        """
        if self._started or self._background is not None:
            raise RuntimeError("a FakeLlamaAPI serves once; create a new one to serve again")
        background = BackgroundLoop(self.start, self.stop, name="FakeLlamaAPI")
        self._background = background
        try:
            background.run()
        except BaseException:
            self._background = None
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the background server and wait for its thread to finish."""
        background, self._background = self._background, None
        if background is not None:
            background.close()

    async def _on_startup(self, app: web.Application) -> None:
        self._released = asyncio.Event()

    async def _on_shutdown(self, app: web.Application) -> None:
        if self._released is not None:
            self._released.set()

    # -- addresses and settings --------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (the one picked by the OS when ``port=0``)."""
        if self._bound_port is not None:
            return self._bound_port
        if self._port:
            return self._port
        raise RuntimeError("the server picks its port when it starts; start it first")

    @property
    def origin(self) -> str:
        """Scheme, host and port, e.g. ``"http://127.0.0.1:54321"``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give a client, e.g. ``"http://127.0.0.1:54321/v1"``."""
        return f"{self.origin}/v1"

    @property
    def api_key(self) -> str:
        """The API key the server accepts."""
        return self._api_key

    # -- catalogue -----------------------------------------------------------------------

    def set_models(self, models: Iterable[Mapping[str, Any]]) -> None:
        """Replace the served models.

        Each model is a mapping with at least a unique, non-empty string ``id``; it is
        served exactly as given. Safe to call from any thread while the server runs.
        """
        table = ModelTable.build(models)
        with self._lock:
            self._table = table

    def add_synthetic_models(self, n: int) -> None:
        """Append `n` generated models with ids ``synthetic-model-00001``, ``…-00002``, ….

        Numbering continues across calls. Meant for load tests that list large
        catalogues. Safe to call from any thread while the server runs.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        with self._lock:
            start, self._synthetic_next = self._synthetic_next, self._synthetic_next + n
            self._table = self._table.extended(synthetic_models(start, n))

    # -- recording and faults ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, in arrival order.

        Every request is recorded, including those answered by a fault or rejected for a
        bad key. Safe to read from any thread.
        """
        return self._ledger.requests()

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        self._ledger.clear()

    def enqueue(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """Queue faults for upcoming requests, first in, first out.

        Each fault is used by exactly one later request that matches: `method` (if
        given) must equal the request method, and `path` (if given) is an
        :mod:`fnmatch` pattern for the raw request path, e.g. ``"/v1/models/*"``.
        Non-matching requests are served normally and leave the queue untouched. Safe
        to call from any thread while the server runs.
        """
        normalized = method.upper() if method is not None else None
        entries = [QueuedFault(fault, normalized, path) for fault in faults]
        self._ledger.enqueue(entries)

    def wait_for_requests(self, count: int, *, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least `count` requests have arrived; return them.

        For a server in thread mode, or one on another thread's loop: it must not be
        called on the server's own event loop (use :meth:`wait_for_requests_async`).

        Raises:
            TimeoutError: Fewer requests arrived within `timeout` seconds.
        """
        if self._loop is not None and _running_loop() is self._loop:
            raise RuntimeError("on the server's own loop, await wait_for_requests_async()")
        return self._ledger.wait(count, timeout)

    async def wait_for_requests_async(
        self, count: int, *, timeout: float = 10.0
    ) -> list[RecordedRequest]:
        """Wait, without blocking the event loop, until `count` requests have arrived.

        Works on the server's own loop and on any other. Returns the requests so far.

        Raises:
            TimeoutError: Fewer requests arrived within `timeout` seconds.
        """
        return await self._ledger.wait_async(count, timeout)

    @property
    def pending_faults(self) -> int:
        """How many queued faults no request has used yet."""
        return self._ledger.pending()

    def enqueue_replies(self, *replies: ChatReply) -> None:
        """Queue scripted answers for upcoming chat completions, first in, first out.

        Each reply answers exactly one later ``POST /v1/chat/completions``, streamed or
        not. Requests rejected with an error status, or answered by a fault instead,
        leave the queue alone; a stream fault breaks off the reply it is applied to.
        With the queue empty the server answers with its default reply. Safe to call
        from any thread while the server runs.
        """
        self._replies.extend(replies)

    @property
    def pending_replies(self) -> int:
        """How many queued replies no chat completion has used yet."""
        return len(self._replies)

    @property
    def rate_limit_stats(self) -> dict[str, RateLimitStats]:
        """Chat completions admitted and refused with a 429, and their tokens, per model.

        Without a rate limit nothing is refused; requests rejected as invalid or answered
        by a queued fault are not counted. A snapshot, safe to read from any thread.
        """
        return self._limits.stats()

    @property
    def files(self) -> dict[str, UploadedFile]:
        """The files completed through the Uploads API so far, by file id.

        A snapshot, in the order the files were completed; safe to read from any thread.
        """
        return self._uploads.files()

    # -- request handling ----------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path, _, query = request.raw_path.partition("?")
        method = request.method
        body = await request.read() if request.body_exists else b""
        connection_id, peer_port = self._connections.identify(request.transport)
        record = RecordedRequest(
            method=method,
            path=path,
            query=query,
            headers=request.headers,  # aiohttp's parsed headers: a read-only CIMultiDictProxy
            body=body,
            peer_port=peer_port,
            connection_id=connection_id,
        )
        fault = self._ledger.record(record)
        released = self._released
        assert released is not None  # set by on_startup before any request

        extra: dict[str, str] = {}
        if self._send_request_id:
            extra["x-request-id"] = "req_" + os.urandom(16).hex()
        if fault is not None and fault.kind == "drop_after_handling":
            # Handled as usual, so whatever the request does here happens (an upload part
            # is stored); then the answer goes the way of a dropped connection.
            await self._responder.answer(request, path, method, None, released, extra, self._table)
            fault = Fault.drop()
        if fault is not None:
            response = await apply_fault(fault, request, released, extra)
            if response is not None:
                return response
            if fault.kind not in STREAM_KINDS:
                fault = None
        return await self._responder.answer(
            request, path, method, fault, released, extra, self._table
        )

    def __repr__(self) -> str:
        where = self.base_url if self._bound_port is not None else "not started"
        return f"<FakeLlamaAPI {where}>"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
