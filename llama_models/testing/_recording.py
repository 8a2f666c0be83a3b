"""What the fake server remembers about each request it receives."""

from __future__ import annotations

import asyncio
import itertools
import json
import weakref
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["ConnectionTracker", "RecordedRequest"]


@attrs.frozen
class RecordedRequest:
    """One HTTP request as the fake server received it.

    The server records every request before it applies a scripted fault or checks the
    API key, so a test can assert on exactly what went over the wire: the raw path with
    its percent-encoding intact, the headers, the body bytes, and which TCP connection
    carried it.

    Attributes:
        method: The HTTP method, e.g. ``"GET"``.
        path: The raw request path exactly as received, without the query string; a
            model id containing ``/`` shows up as ``"/v1/models/org%2Fmodel-x"``.
        query: The raw query string without the ``?``; empty when there was none.
        headers: A read-only, case-insensitive mapping of the request headers.
        body: The request body; empty for requests without one.
        peer_port: The client's source port.
        connection_id: A number unique to the TCP connection that carried the request;
            requests sent over a reused keep-alive connection share it.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    peer_port: int
    connection_id: int

    def json(self) -> Any:
        """Return the body parsed as JSON.

        Raises:
            ValueError: The body is empty or not valid UTF-8 JSON.
        """
        return json.loads(self.body)


class ConnectionTracker:
    """Numbers TCP connections so recorded requests can tell reuse from a new connection.

    Keyed weakly by transport, so the table shrinks as connections close. Transports that
    cannot be weakly referenced (some third-party event loops) fall back to ``id()``,
    which is unique among live connections.
    """

    __slots__ = ("_counter", "_known")

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._known: weakref.WeakKeyDictionary[asyncio.BaseTransport, tuple[int, int]] = (
            weakref.WeakKeyDictionary()
        )

    def identify(self, transport: asyncio.BaseTransport | None) -> tuple[int, int]:
        """Return ``(connection_id, peer_port)`` for the connection behind `transport`."""
        if transport is None:
            # The client already hung up; the request still deserves a record.
            return next(self._counter), 0
        try:
            known = self._known.get(transport)
        except TypeError:
            return id(transport), _peer_port(transport)
        if known is None:
            known = (next(self._counter), _peer_port(transport))
            self._known[transport] = known
        return known


def _peer_port(transport: asyncio.BaseTransport) -> int:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2 and isinstance(peer[1], int):
        return peer[1]
    return 0
