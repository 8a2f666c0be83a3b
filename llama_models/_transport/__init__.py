"""The only package that imports aiohttp.

`Transport` owns (or borrows) one pooled `aiohttp.ClientSession`, created lazily
on the event loop of the first call, and turns a `RequestSpec` into an
`APIResponse`: it applies the deadline (`_inflight`), the rate limit
(`_ratelimit`) and the request hooks, and retries as `_retry` allows
(`_retries`). Each attempt (`_attempt`) follows redirects as `_redirects`
allows, caps the response size, and maps every aiohttp failure to the
exception hierarchy of `llama_models.errors` (`_failures`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import platform
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from .. import _protocol as proto
from .._config import ClientConfig
from .._converter import default_converter, json_dumps, json_loads, json_loads_text, structure
from .._hooks import AttemptReporter
from .._inflight import CLOSED, TIMEOUT, InFlight
from .._options import CallSettings, encode_query, resolve_call
from ..errors import (
    APITimeoutError,
    ClientStateError,
)
from ..types.response import APIResponse
from ._attempt import Attempts
from ._auth import bearer
from ._binding import Binding, session_closed_under
from ._failures import AttemptFailed
from ._retries import Retries
from ._stream import LiveBody

if TYPE_CHECKING:
    from .._ratelimit._limiter import Limiter

T = TypeVar("T")

logger = logging.getLogger("llama_models")


def user_agent() -> str:
    from .. import __version__

    python = ".".join(platform.python_version_tuple()[:2])
    return f"llama-models/{__version__} python/{python} aiohttp/{aiohttp.__version__}"


class Transport:
    """Sends requests for one client on one event loop."""

    def __init__(
        self,
        config: ClientConfig,
        session: aiohttp.ClientSession | None,
        binding: Binding | None = None,
    ) -> None:
        self._config = config
        # A derived client (with_options) shares its parent's binding: session, pool, calls.
        self._binding = binding or Binding(config, session)
        #: What a call without options gets: budget, retries, extra headers, query string.
        self._defaults: CallSettings = (
            config.timeout,
            config.max_retries,
            None,
            encode_query(config.default_query),
        )
        self._attempts = Attempts(config, self._binding)
        self._retries = Retries()
        self._hooks = config.hooks
        #: The converter that structures answers, and its codec's decoders (of a body,
        #: and of text such as a stream event) and encoder.
        self.converter = converter = config.converter or default_converter()
        self.loads = json_loads(converter)
        self.loads_text = json_loads_text(converter)
        self.dumps = json_dumps(converter)
        self._headers: dict[str, str] = {
            "User-Agent": user_agent(),
            "Accept": "application/json",
            **config.default_headers,
        }
        if session is not None:  # the key cannot go on in a middleware of ours (see _auth)
            self._headers["Authorization"] = bearer(config.api_key)
        self._limiter: Limiter | None = None
        if config.rate_limit is not None:
            from .._ratelimit._limiter import Limiter

            self._limiter = Limiter(config.rate_limit)

    def derive(self, config: ClientConfig) -> Transport:
        """A transport with *config*'s settings on this one's session, pool and calls.

        It keeps this one's rate limiter too, with what it has learned of the
        limits, when the rate limit is the same.
        """
        binding = self._binding
        derived = Transport(config, None if binding.owns_session else binding.session, binding)
        if config.rate_limit is not None and config.rate_limit is self._config.rate_limit:
            derived._limiter = self._limiter
        return derived

    def structure(self, data: Any, cls: type[T]) -> T:
        """Structure decoded JSON as *cls* with this client's converter."""
        return structure(self.converter, data, cls)

    async def aclose(self) -> None:
        """End every call and stream in flight, then close the session if it is ours."""
        await self._binding.aclose()

    def request(
        self, spec: proto.RequestSpec, cls: type[T], options: Mapping[str, Any]
    ) -> Coroutine[Any, Any, APIResponse[T]]:
        """Send *spec*, retrying as the policy allows, and structure the answer as *cls*.

        A plain function handing back `_exchange`'s coroutine: every frame in the
        chain is re-entered each time the request resumes, so there is one fewer.
        """
        return self._exchange(spec, cls, options, None)

    def open_stream(
        self, spec: proto.RequestSpec, options: Mapping[str, Any], deadline: float | None
    ) -> Coroutine[Any, Any, tuple[LiveBody, int, Callable[[Any], None] | None]]:
        """Send *spec* and return its 2xx response still open, with the retries it took.

        Retries follow the policy until the response starts; after that nothing
        is retried. *deadline* (loop time) bounds the opening as well, when the
        whole stream has one. The third item, when not ``None``, is to be
        called with the stream's final completion, so that the rate limit
        counts its real tokens.
        """
        return self._exchange(spec, None, options, deadline)

    def inflight(self) -> InFlight:
        """The keeper of the calls and streams in flight on this transport's loop."""
        binding = self._binding
        binding.bind()
        assert binding.inflight is not None
        return binding.inflight

    async def _exchange(
        self,
        spec: proto.RequestSpec,
        cls: type[Any] | None,
        options: Mapping[str, Any],
        stream_deadline: float | None,
    ) -> Any:
        """Send *spec* until it succeeds or the policy gives up.

        With a *cls*, return an `APIResponse` of the answer structured as *cls*;
        without one (a stream), return the still open `LiveBody` and the number
        of retries. Everything runs in this one coroutine frame (plus
        `Attempts.send`): every frame in the chain is re-entered each time the
        request is resumed.
        """
        stream = cls is None
        binding = self._binding
        session = binding.bind()
        config = self._config
        budget, max_retries, extra_headers, query = (
            resolve_call(options, spec, config) if options else self._defaults
        )
        headers = self._headers
        if spec.headers:
            headers = {**headers, **spec.headers}
        if stream:
            headers = {**headers, "Accept": "text/event-stream"}
        if extra_headers:
            headers = {**headers, **extra_headers}
        method = spec.method
        url = proto.join_url(config.base_url, spec.path)
        if query:
            url += "?" + query
        body: bytes | None = None
        if spec.json is not None:
            try:
                body = self.dumps(spec.json)
            except (TypeError, ValueError) as exc:  # orjson's errors are TypeErrors
                raise proto.unencodable_body(method, url, exc) from exc
            headers = {**headers, "Content-Type": "application/json"}
            if config.log_bodies:
                logger.debug("request body: %s", proto.excerpt(body))
        elif spec.content is not None:
            body = spec.content
            headers = {**headers, "Content-Type": spec.content_type or "application/octet-stream"}
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        inflight = binding.inflight
        if task is None or inflight is None:  # pragma: no cover - coroutines run in tasks
            raise ClientStateError("call the client from within an asyncio task")
        started = loop.time()
        deadline = None if budget is None else started + budget
        limit = "" if budget is None else f"after {budget:g} s"
        if stream_deadline is not None and (deadline is None or stream_deadline < deadline):
            deadline, limit = stream_deadline, "at its stream_timeout"
        remaining = math.inf
        holders = binding.holders
        key = 0
        reporter = None
        if self._hooks:
            reporter = AttemptReporter(
                self._hooks, method, url, body, stream=stream, bodies=config.hook_bodies
            )
        inflight.enter(task, deadline)
        retries = 0
        limiter = self._limiter
        ticket = None if limiter is None else limiter.ticket(spec)
        # 429s the rate limiter waited out: they are bounded by the deadline, not max_retries.
        waited_out = 0
        try:
            while True:
                if ticket is not None:
                    assert limiter is not None
                    await limiter.acquire(
                        ticket, math.inf if deadline is None else deadline, method, url
                    )
                binding.seq = key = binding.seq + 1
                holders[key] = None
                if reporter is not None:
                    reporter.start()
                try:
                    status, resp_headers, raw, final_url, live = await self._attempts.send(
                        session, method, url, headers, body, stream, key
                    )
                except AttemptFailed as failed:
                    del holders[key]
                    if reporter is not None:
                        reporter.failed(failed.error)
                    if ticket is not None:
                        assert limiter is not None
                        await limiter.unanswered(ticket)
                    if deadline is not None:
                        remaining = deadline - loop.time()
                    delay, why = self._retries.after_failure(
                        failed, method, retries - waited_out, max_retries, remaining
                    )
                else:
                    if live is None:  # a live body gives its place back when it closes
                        del holders[key]
                    if reporter is not None:
                        reporter.response(status, resp_headers, raw, final_url)
                    if ticket is not None:
                        assert limiter is not None
                        await limiter.answered(ticket, status, resp_headers)
                        if status == 429 and resp_headers.get("x-should-retry") != "false":
                            if reporter is not None:
                                reporter.emit(will_retry=True)
                            logger.info(
                                "%s %s got HTTP 429; trying again after the rate limit's pause",
                                method,
                                url,
                            )
                            retries += 1
                            waited_out += 1
                            continue  # the limiter's shared pause is the wait
                    if status < 300:
                        break
                    if deadline is not None:
                        remaining = deadline - loop.time()
                    delay, why = self._retries.after_status(
                        status,
                        resp_headers,
                        raw,
                        method,
                        final_url,
                        retries - waited_out,
                        max_retries,
                        remaining,
                    )
                if reporter is not None:
                    reporter.emit(will_retry=True)
                self._retries.log(method, url, retries, max_retries, delay, why)
                await asyncio.sleep(delay)
                retries += 1
        except BaseException as exc:
            if ticket is not None:
                assert limiter is not None
                limiter.abandon(ticket)
            queued = key in holders and binding.queued(key)
            holders.pop(key, None)
            ended = inflight.leave(task)
            if reporter is not None:
                reporter.end(exc, ended)
            if ended == TIMEOUT:
                cause = None if isinstance(exc, asyncio.CancelledError) else exc
                raise APITimeoutError(
                    f"{method} {url} timed out {limit}{binding.queue_note() if queued else ''}",
                    method=method,
                    url=url,
                ) from cause
            if ended == CLOSED:
                raise ClientStateError(
                    f"{method} {url}: the client was closed while the call was running"
                ) from None
            if isinstance(exc, asyncio.CancelledError) and session_closed_under(session, task):
                raise ClientStateError(
                    f"{method} {url}: the HTTP session was closed during the call"
                ) from None
            raise
        inflight.leave(task)
        if reporter is not None:
            reporter.emit(will_retry=False)
        if cls is None:
            finish = None
            if ticket is not None:
                assert limiter is not None
                finish = functools.partial(limiter.settle_later, ticket)
            return live, retries, finish
        elapsed = timedelta(0, loop.time() - started)
        data = (
            raw  # client.get(..., cast_to=bytes): the body as it is
            if cls is bytes
            else proto.parse_success(
                status,
                resp_headers,
                raw,
                cls,
                self.structure,
                self.loads,
                method=spec.method,
                url=final_url,
            )
        )
        if ticket is not None:
            assert limiter is not None
            await limiter.settle(ticket, data)
        return APIResponse(
            data=data,
            status_code=status,
            headers=resp_headers,
            retries=retries,
            content=raw,
            url=final_url,
            elapsed=elapsed,
        )
