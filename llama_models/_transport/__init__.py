"""The only package that imports aiohttp.

`Transport` owns (or borrows) one pooled `aiohttp.ClientSession`, created lazily
on the event loop of the first call, and turns a `RequestSpec` into an
`APIResponse`: it applies the deadline (`_deadline`), follows redirects as
`_redirects` allows, caps the response size, retries as `_retry` allows, and
maps every aiohttp failure to the exception hierarchy of `llama_models.errors`
(`_failures`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import platform
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from yarl import URL

from .. import _protocol as proto
from .._config import ClientConfig
from .._converter import default_converter, json_dumps, json_loads, json_loads_text, structure
from .._hooks import AttemptReporter
from .._inflight import CLOSED, TIMEOUT, InFlight
from .._options import CallSettings, encode_query, resolve_call
from .._redirects import MAX_REDIRECTS, follow_redirect, redirect_target
from .._retry import Stage, failure_is_retryable, parse_retry_after, plan_retry, status_is_retryable
from ..errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientStateError,
)
from ..types.response import APIResponse
from ._auth import bearer
from ._binding import Binding, session_closed_under
from ._failures import AttemptFailed, map_attempt_error, not_a_stream, read_capped
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
        self._urls: dict[str, URL] = {}
        # The call's deadline covers all attempts and waits, the wait for a free
        # connection included (see request and _inflight); aiohttp only enforces
        # the limits of one connection: establishing it, and each read.
        self._timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        )
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
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
        """A transport with *config*'s settings on this one's session, pool and calls."""
        binding = self._binding
        return Transport(config, None if binding.owns_session else binding.session, binding)

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
        `_attempt`): every frame in the chain is re-entered each time the
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
        body: bytes | None = None
        if spec.json is not None:
            body = self.dumps(spec.json)
            headers = {**headers, "Content-Type": "application/json"}
            if config.log_bodies:
                logger.debug("request body: %s", proto.excerpt(body))
        elif spec.content is not None:
            body = spec.content
            headers = {**headers, "Content-Type": spec.content_type or "application/octet-stream"}
        method = spec.method
        url = proto.join_url(config.base_url, spec.path)
        if query:
            url += "?" + query
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
                    status, resp_headers, raw, final_url, live = await self._attempt(
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
                    delay, why = self._delay_after_failure(
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
                    delay, why = self._delay_after_status(
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
                self._log_retry(method, url, retries, max_retries, delay, why)
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

    def _delay_after_failure(
        self, failed: AttemptFailed, method: str, retries: int, max_retries: int, remaining: float
    ) -> tuple[float, str]:
        """The wait before retrying a failed attempt and why, or raise its error."""
        delay = None
        if failure_is_retryable(method, failed.stage):
            delay = self._plan(retries, max_retries, None, remaining)
        if delay is None:
            raise failed.error from failed.__cause__
        return delay, failed.error.message

    def _delay_after_status(
        self,
        status: int,
        headers: Mapping[str, str],
        raw: bytes,
        method: str,
        url: str,
        retries: int,
        max_retries: int,
        remaining: float,
    ) -> tuple[float, str]:
        """The wait before retrying after an error status and why, or raise the error."""
        now = time.time()
        error = proto.status_error(status, headers, raw, method=method, url=url, now=now)
        delay = None
        if status_is_retryable(method, status, headers):
            delay = self._plan(retries, max_retries, parse_retry_after(headers, now), remaining)
        if delay is None:
            raise error
        return delay, f"HTTP {status}"

    def _url(self, url: str) -> URL:
        """Parse and cache a yarl URL for an already percent-encoded *url*."""
        if len(self._urls) >= 1024:
            self._urls.clear()
        parsed = self._urls[url] = URL(url, encoded=True)
        return parsed

    def _plan(
        self, retries: int, max_retries: int, server_wait: float | None, remaining: float
    ) -> float | None:
        return plan_retry(
            retries_made=retries,
            max_retries=max_retries,
            server_wait=server_wait,
            remaining=remaining,
            jitter=self._random.random(),
        )

    def _log_retry(
        self, method: str, url: str, retries: int, max_retries: int, delay: float, why: str
    ) -> None:
        logger.info(
            "retrying %s %s in %.2f s (retry %d of %d) after: %s",
            method,
            url,
            delay,
            retries + 1,
            max_retries,
            why,
        )

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        stream: bool,
        key: int,
    ) -> tuple[int, Mapping[str, str], bytes, str, LiveBody | None]:
        """One attempt, redirects included: (status, headers, body, final URL, open body).

        For a stream, a 2xx ``text/event-stream`` response is returned unread as a
        `LiveBody`, which the caller then owns, with the attempt's place *key* in
        the pool's queue; any other response is read here as usual.
        """
        cap = self._config.max_response_bytes
        debug = logger.isEnabledFor(logging.DEBUG)
        for _hop in range(MAX_REDIRECTS + 1):
            started = time.perf_counter() if debug else 0.0
            live = None
            try:
                resp = await session.request(
                    method,
                    self._urls.get(url) or self._url(url),
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    proxy=self._config.proxy,
                    timeout=self._timeouts,
                )
                try:
                    status = resp.status
                    resp_headers = resp.headers
                    target = None
                    if 300 <= status < 400:
                        target = redirect_target(status, resp_headers, url, method)
                    length = resp.content_length
                    if target:
                        raw = b""
                    elif stream and status < 300:
                        if resp.content_type != "text/event-stream":
                            not_a_stream(resp, await read_capped(resp, cap, method, url), url)
                        live = LiveBody(resp, method, url, self._binding.holders, key)
                        raw = b""
                    elif (
                        length is not None
                        and length <= cap
                        and "Content-Encoding" not in resp_headers
                    ):
                        raw = await resp.read()
                    else:
                        raw = await read_capped(resp, cap, method, url)
                finally:
                    if live is None:
                        resp.release()
            except Exception as exc:
                map_attempt_error(
                    exc,
                    method,
                    url,
                    session_closed=session.closed,
                    connect_timeout=self._config.connect_timeout,
                    read_timeout=self._config.read_timeout,
                )
            except BaseException:
                if live is not None:  # cancelled between handing over and returning
                    live.close()
                raise
            if debug:
                logger.debug(
                    "%s %s -> %d (%.1f ms)",
                    method,
                    url,
                    status,
                    (time.perf_counter() - started) * 1000,
                )
                if self._config.log_bodies and raw:
                    logger.debug("response body: %s", proto.excerpt(raw))
            if target is None:
                return status, resp_headers, raw, url, live
            try:
                url, method, headers, body = follow_redirect(
                    status, resp_headers, url, method, headers, body, target
                )
            except APIStatusError as refusal:
                raise AttemptFailed(refusal, Stage.LOCAL) from None
        raise AttemptFailed(
            APIConnectionError(
                f"{method} {url}: more than {MAX_REDIRECTS} redirects", method=method, url=url
            ),
            Stage.LOCAL,
        )
