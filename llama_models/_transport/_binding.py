"""One aiohttp session on one event loop: bound by the first call, closed once; its pool's queue.

A client serves the event loop of its first call. Two threads, each with its
own loop, may make that first call at the same moment, so binding takes a
lock: the first binds, the other gets `ClientStateError`. Closing ends every
call and stream in flight on the loop (`InFlight.close`) before the session
closes, so that none of them sees a bare ``CancelledError`` or a connection
error for what is really the client going away.

The transport numbers its attempts and keeps those holding or waiting for a
pooled connection in `Binding.holders`, so that a call that runs out of time
can tell whether it was still queued for a connection (`Binding.queued`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading

import aiohttp

from .._config import ClientConfig
from .._inflight import InFlight
from ..errors import ClientStateError
from ._auth import BearerAuth

__all__ = ["Binding", "session_closed_under"]

# How long aclose() waits for the calls it cancelled to unwind.
_DRAIN_GRACE = 5.0


class Binding:
    """The session of a transport, the loop it belongs to, and the calls in flight there."""

    def __init__(self, config: ClientConfig, session: aiohttp.ClientSession | None) -> None:
        self._config = config
        self.session = session
        self.owns_session = session is None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.inflight: InFlight | None = None
        self.closed = False
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # Attempts holding or waiting for a pooled connection, oldest (lowest) first.
        self.holders: dict[int, None] = {}
        self.seq = 0

    def bind(self) -> aiohttp.ClientSession:
        """The session for the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        session = self.session
        if self.loop is loop and session is not None and not self.closed:
            if not self.owns_session and session.closed:
                raise ClientStateError("the aiohttp.ClientSession given as http_session is closed")
            return session
        with self._lock:
            return self._bind_first(loop)

    def _bind_first(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        if self.closed:
            raise ClientStateError("this client is closed; create a new client")
        if self.loop is not None and self.loop is not loop:
            if os.getpid() != self._pid:
                raise ClientStateError(
                    "this client was used in the parent process and cannot be used in a forked "
                    "child; create a new client in the child (a client that has made no call "
                    "yet may be shared this way)"
                )
            raise ClientStateError(
                "this client is bound to the event loop it was first used on and cannot be "
                "used from another one; create one client per event loop (for blocking code "
                "use LlamaClient)"
            )
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._config.max_connections,
                    ttl_dns_cache=300,
                    ssl=True if self._config.ssl is None else self._config.ssl,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
                # The proxy was resolved once from the environment (_config); trust_env
                # would look it up, and read ~/.netrc, in a thread on every request.
                trust_env=False,
                middlewares=(BearerAuth(self._config.api_key, self._config.base_url),),
            )
        elif self.session.closed:
            raise ClientStateError("the aiohttp.ClientSession given as http_session is closed")
        if self.loop is None:
            self.loop = loop
            self.inflight = InFlight(loop)
        return self.session

    def queued(self, key: int) -> bool:
        """Whether attempt *key* was still waiting for a connection from the pool.

        Our own pool lends its connections first come, first served, so an attempt
        with ``max_connections`` older ones still holding or awaiting a connection
        cannot have one yet. A session of the caller's is shared with code we do not
        see, so there is nothing to tell.
        """
        if not self.owns_session:
            return False
        older = 0
        for other in self.holders:
            if other >= key:
                break
            older += 1
        return older >= self._config.max_connections

    def queue_note(self) -> str:
        """What to add to the message of a call that timed out in the pool's queue."""
        limit = self._config.max_connections
        return (
            f" waiting for a free connection: all {limit} connections of the pool were in use "
            f"(max_connections={limit}); raise max_connections, or the timeout"
        )

    async def aclose(self) -> None:
        """End every call and stream in flight, then close the session if it is ours.

        Idempotent. Calls still running raise `ClientStateError`; open streams
        raise it on their next read.
        """
        if self.closed:
            return
        if self.loop is not None and asyncio.get_running_loop() is not self.loop:
            raise ClientStateError("close the client on the event loop it was used on")
        self.closed = True
        if self.inflight is not None:
            drained = self.inflight.close()
            # The cancelled calls unwind at their next step; one that does not (it
            # should not happen) must not hold the close up for long.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(drained), _DRAIN_GRACE)
        if self.session is not None and self.owns_session:
            await self.session.close()


def session_closed_under(session: aiohttp.ClientSession, task: asyncio.Task[object]) -> bool:
    """Whether a ``CancelledError`` came from *session* closing, not from anyone cancelling *task*.

    Closing a session cancels the calls waiting for one of its connections by
    cancelling what they wait on, not the calls' tasks.
    """
    if not session.closed:
        return False
    if sys.version_info >= (3, 11):
        return task.cancelling() == 0
    return True  # pragma: no cover - Python 3.10 has no cancellation counts
