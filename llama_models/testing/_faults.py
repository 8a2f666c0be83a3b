"""Scripted misbehaviour for the fake server: errors, delays, stalls and broken connections."""

from __future__ import annotations

import fnmatch
import http
import json as _json
import math
from collections.abc import Mapping
from typing import Any, Literal, NoReturn

import attrs

from ._routes import error_body

__all__ = ["STREAM_KINDS", "Fault", "QueuedFault"]

_FaultKind = Literal[
    "respond",
    "error",
    "rate_limited",
    "malformed",
    "redirect",
    "delay",
    "stall",
    "stall_body",
    "drop",
    "drop_mid_body",
    "drop_after_handling",
    "stream_error",
    "stream_cut",
    "stream_end_early",
    "stream_stall",
]
#: Faults that the streaming chat handler carries out instead of the dispatcher.
STREAM_KINDS = frozenset({"stream_error", "stream_cut", "stream_end_early", "stream_stall"})

_UNSET: Any = object()
_LIST_PREFIX = b'{"object": "list", "data": ['

_Headers = tuple[tuple[str, str], ...]


@attrs.frozen(init=False)
class Fault:
    """A scripted answer the fake server gives to one request instead of its normal one.

    Create faults only through the classmethods — :meth:`respond`, :meth:`error`,
    :meth:`rate_limited`, :meth:`delay`, :meth:`stall`, :meth:`stall_body`,
    :meth:`drop`, :meth:`drop_mid_body`, :meth:`drop_after_handling`, :meth:`malformed`
    and :meth:`redirect` — and hand them to :meth:`FakeLlamaAPI.enqueue`. Each queued
    fault is used up by exactly one matching request. The server records the request
    first and applies the fault before it checks the API key, because a scripted answer
    is an answer.

    The stream faults — :meth:`stream_error`, :meth:`stream_cut`, :meth:`stream_end_early`
    and :meth:`stream_stall` — are the exception: they break a streamed chat completion
    (``"stream": true``) after it started, so the request is otherwise handled normally
    (a bad key still gets 401, a bad request 400). Their `after` counts the ``data:``
    events sent first (``start``, each ``progress``, ``complete``, ``metrics``); when the
    stream has fewer, the fault strikes after the last. Any other request that draws a
    stream fault gets a 500 whose detail says so.

    Faults are immutable values, so one instance may be enqueued several times.
    """

    kind: _FaultKind
    status: int = 0
    body: bytes = b""
    headers: _Headers = ()
    seconds: float = 0.0
    #: For stream faults, how many events go out before the fault strikes.
    after: int = 0

    def __init__(self, *args: NoReturn, **kwargs: NoReturn) -> None:
        raise TypeError(
            "create a Fault through one of its classmethods, e.g. Fault.error(503) or Fault.drop()"
        )

    @classmethod
    def _make(cls, kind: _FaultKind, **fields: Any) -> Fault:
        fault = object.__new__(cls)
        fault.__attrs_init__(kind, **fields)
        return fault

    @classmethod
    def respond(
        cls,
        status: int,
        *,
        json: Any = _UNSET,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Answer with exactly this status, body and headers.

        Give the body either as `json` (serialized, ``Content-Type: application/json``)
        or as `body` (a ``str`` is sent UTF-8 encoded as ``text/plain``, ``bytes`` as
        ``application/octet-stream``), not both. `content_type` overrides the inferred
        type and any ``Content-Type`` in `headers`. The server adds nothing but its own
        framing headers (and ``x-request-id`` when it was asked to send one).
        """
        if json is not _UNSET and body is not None:
            raise ValueError("pass either json= or body=, not both")
        inferred: str | None = None
        payload = b""
        if json is not _UNSET:
            payload = _json.dumps(json).encode()
            inferred = "application/json"
        elif isinstance(body, str):
            payload = body.encode()
            inferred = "text/plain; charset=utf-8"
        elif body is not None:
            payload = bytes(body)
            inferred = "application/octet-stream"
        pairs = _pairs(headers)
        if content_type is not None:
            pairs = (*_without(pairs, "content-type"), ("Content-Type", content_type))
        elif inferred is not None and not _has(pairs, "content-type"):
            pairs += (("Content-Type", inferred),)
        return cls._make("respond", status=_check_status(status), body=payload, headers=pairs)

    @classmethod
    def error(
        cls,
        status: int,
        detail: str = "Simulated error",
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with the illustrative JSON error body of the Llama API.

        The body is ``{"title": title, "detail": detail, "status": status}`` with
        ``Content-Type: application/json``; `title` defaults to the HTTP reason phrase of
        `status` (e.g. ``"Service Unavailable"`` for 503). `headers` are added to the
        response, e.g. ``{"x-should-retry": "false"}``.
        """
        _check_status(status)
        if title is None:
            title = _reason(status)
        return cls._make(
            "error",
            status=status,
            body=error_body(status, title, detail),
            headers=(("Content-Type", "application/json"), *_pairs(headers)),
        )

    @classmethod
    def rate_limited(
        cls,
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer 429 the way the rate limiter of the Llama API would.

        The body is ``{"title": "Too many requests", "detail": "Rate limit exceeded",
        "status": 429}``, with the four ``x-ratelimit-*`` headers showing an exhausted
        preview quota (10 requests, 250,000 tokens). `retry_after` and `retry_after_ms`
        become the ``retry-after`` and ``retry-after-ms`` headers when given; they are
        strings so tests can send HTTP dates or garbage too. `headers` are added last.
        """
        pairs: list[tuple[str, str]] = [
            ("Content-Type", "application/json"),
            ("x-ratelimit-limit-requests", "10"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-limit-tokens", "250000"),
            ("x-ratelimit-remaining-tokens", "0"),
        ]
        if retry_after is not None:
            pairs.append(("retry-after", retry_after))
        if retry_after_ms is not None:
            pairs.append(("retry-after-ms", retry_after_ms))
        return cls._make(
            "rate_limited",
            status=429,
            body=error_body(429, "Too many requests", "Rate limit exceeded"),
            headers=(*pairs, *_pairs(headers)),
        )

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait `seconds`, then handle the request normally.

        Stopping the server cuts the wait short, so a long delay never holds up a test's
        teardown.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"delay must be a finite number of seconds >= 0, got {seconds!r}")
        return cls._make("delay", seconds=float(seconds))

    @classmethod
    def stall(cls) -> Fault:
        """Accept the request and never answer.

        The client sees nothing until its own timeout fires. When the server stops it
        closes the stalled connection, so shutdown stays prompt.
        """
        return cls._make("stall")

    @classmethod
    def stall_body(cls, *, status: int = 200, prefix: bytes = _LIST_PREFIX) -> Fault:
        """Send the status line, headers and the first bytes of the body, then go silent.

        The ``Content-Length`` promises more than `prefix`, and the content type is
        ``application/json``, so the client waits for the rest of a body that never
        arrives (a read timeout). The server closes the connection when it stops.
        """
        return cls._make("stall_body", status=_check_status(status), body=bytes(prefix))

    @classmethod
    def drop(cls) -> Fault:
        """Close the TCP connection without sending a single response byte.

        An aiohttp client reports this as :class:`aiohttp.ServerDisconnectedError`.
        """
        return cls._make("drop")

    @classmethod
    def drop_after_handling(cls) -> Fault:
        """Handle the request as usual, then close the connection instead of answering.

        Whatever the request does on the server happens (an upload part is stored), but
        the answer is lost, so the client sees what :meth:`drop` shows it and cannot tell
        whether the request took effect. Meant for answers sent in one piece: a streamed
        answer would have gone out before the close.
        """
        return cls._make("drop_after_handling")

    @classmethod
    def drop_mid_body(cls, *, prefix: bytes = _LIST_PREFIX) -> Fault:
        """Send a 200 with headers and the first bytes of the body, then close the connection.

        The ``Content-Length`` promises more than `prefix`, so the client notices the body
        is truncated (an aiohttp client raises :class:`aiohttp.ClientPayloadError`).
        """
        return cls._make("drop_mid_body", status=200, body=bytes(prefix))

    @classmethod
    def malformed(
        cls,
        *,
        status: int = 200,
        body: bytes = b'{"object": "list", "data": [{"id": ',
        content_type: str = "application/json",
    ) -> Fault:
        """Send a complete, correctly framed response whose body is not valid JSON."""
        return cls._make(
            "malformed",
            status=_check_status(status),
            body=bytes(body),
            headers=(("Content-Type", content_type),),
        )

    @classmethod
    def redirect(cls, location: str, *, status: int = 307) -> Fault:
        """Redirect the request to `location`, which may be absolute or relative.

        The hosted API answers some requests with a 307, so clients must follow
        redirects; this fault lets a test check that they do, and where they go.
        """
        if not 300 <= status < 400:
            raise ValueError(f"a redirect needs a 3xx status, got {status}")
        return cls._make("redirect", status=status, headers=(("Location", location),))

    @classmethod
    def stream_error(
        cls,
        after: int = 1,
        *,
        status: int = 500,
        title: str = "Internal server error",
        detail: str = "Generation failed",
    ) -> Fault:
        """After `after` events, report an error inside the stream and end it.

        The error is the body ``{"title", "detail", "status"}`` as a bare JSON line with
        no ``data:`` prefix, the way the hosted API reports a failure after the ``200``
        has gone out; the official Python SDK raises ``APIError`` for it.
        """
        body = _json.dumps(
            {"title": title, "detail": detail, "status": _check_status(status)},
            separators=(",", ":"),
        ).encode()
        return cls._make("stream_error", status=status, body=body, after=_check_after(after))

    @classmethod
    def stream_cut(cls, after: int = 1) -> Fault:
        """After `after` events, send the first half of the next event's line and hang up.

        The client sees a connection error in the middle of an event (an aiohttp client
        raises :class:`aiohttp.ClientPayloadError`).
        """
        return cls._make("stream_cut", after=_check_after(after))

    @classmethod
    def stream_end_early(cls, after: int = 1) -> Fault:
        """After `after` events, end the response cleanly, without ``complete`` or ``metrics``.

        Nothing is wrong on the HTTP level; only a client that checks for the final
        events notices the answer is incomplete.
        """
        return cls._make("stream_end_early", after=_check_after(after))

    @classmethod
    def stream_stall(cls, after: int = 1, *, keepalive_interval: float | None = None) -> Fault:
        """After `after` events, send nothing more until the server stops.

        With `keepalive_interval`, a ``: keep-alive`` comment goes out every that many
        seconds, so only a client that times out on missing events (not on a silent
        connection) notices. Stopping the server closes the connection.
        """
        interval = 0.0
        if keepalive_interval is not None:
            if not math.isfinite(keepalive_interval) or keepalive_interval <= 0:
                raise ValueError(
                    f"keepalive_interval must be a finite number of seconds > 0, "
                    f"got {keepalive_interval!r}"
                )
            interval = float(keepalive_interval)
        # `seconds` is the keep-alive interval here; 0 means no keep-alives.
        return cls._make("stream_stall", seconds=interval, after=_check_after(after))


@attrs.frozen
class QueuedFault:
    """A fault waiting in the server's queue for a request it matches."""

    fault: Fault
    #: Upper-case method the request must use, or ``None`` for any.
    method: str | None
    #: fnmatch pattern for the raw request path, or ``None`` for any.
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with `method` and raw `path` should receive this fault."""
        return (self.method is None or self.method == method) and (
            self.path is None or fnmatch.fnmatchcase(path, self.path)
        )


def _check_status(status: int) -> int:
    if not 200 <= status <= 599:
        raise ValueError(f"status must be a final HTTP status between 200 and 599, got {status}")
    return status


def _check_after(after: int) -> int:
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ValueError(f"after must be an integer >= 0, got {after!r}")
    return after


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _pairs(headers: Mapping[str, str] | None) -> _Headers:
    return tuple(headers.items()) if headers else ()


def _has(pairs: _Headers, name: str) -> bool:
    return any(key.lower() == name for key, _ in pairs)


def _without(pairs: _Headers, name: str) -> _Headers:
    return tuple((key, value) for key, value in pairs if key.lower() != name)
