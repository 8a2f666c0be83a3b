"""One attempt of a request: sent through the session, redirects followed, the body read."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import aiohttp
from yarl import URL

from .. import _protocol as proto
from .._config import ClientConfig
from .._redirects import MAX_REDIRECTS, follow_redirect, redirect_target
from .._retry import Stage
from ..errors import APIConnectionError, APIStatusError
from ._binding import Binding
from ._failures import AttemptFailed, map_attempt_error, not_a_stream, read_capped
from ._stream import LiveBody

__all__ = ["Attempts"]

logger = logging.getLogger("llama_models")


class Attempts:
    """Makes the attempts of one transport's calls, with its settings and its pool."""

    def __init__(self, config: ClientConfig, binding: Binding) -> None:
        self._config = config
        self._binding = binding
        self._urls: dict[str, URL] = {}
        # The call's deadline covers all attempts and waits, the wait for a free
        # connection included (see Transport.request and _inflight); aiohttp only
        # enforces the limits of one connection: establishing it, and each read.
        self._timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        )

    def _url(self, url: str) -> URL:
        """Parse and cache a yarl URL for an already percent-encoded *url*."""
        if len(self._urls) >= 1024:
            self._urls.clear()
        parsed = self._urls[url] = URL(url, encoded=True)
        return parsed

    async def send(
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
