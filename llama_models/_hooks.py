"""Request hooks: one `RequestAttempt` record per attempt, handed to the client's callables.

The transport holds an `AttemptReporter` only when the client has hooks, so a
client without them pays one ``is not None`` check at each step of an attempt.
Hooks are plain callables run synchronously on the event loop that sends the
request (for `LlamaClient`, its portal's loop thread); one that raises is
logged and the call goes on.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

from attrs import frozen

from .errors import APITimeoutError, ClientStateError, InvalidArgumentError, LlamaError
from .types.response import RateLimitInfo

__all__ = ["AttemptReporter", "RequestAttempt", "RequestHook", "validate_hooks"]


@frozen(kw_only=True)
class RequestAttempt:
    """One HTTP attempt of a call, as the client's *hooks* see it.

    A call that is retried makes several attempts, each reported once it is
    decided (answered, failed, or given up on); redirects are followed within
    one attempt. For a stream the attempt ends when its response starts.
    Nothing here holds the API key or the ``Authorization`` header.

    Attributes:
        method: the HTTP method, such as ``"POST"``.
        url: the URL the attempt ended at (after redirects, if any).
        attempt: the attempt's number within the call, from 1.
        status: the HTTP status, or ``None`` when there was no response (a
            connection error, a timeout, a cancelled call).
        elapsed: seconds from sending the attempt to its outcome.
        request_id: the server's request id (``x-request-id`` or
            ``request-id``), when it sent one.
        rate_limit: the parsed ``x-ratelimit-*`` headers, when there were any.
        error: the typed error of the attempt (an `APIStatusError` for an error
            status even when it is retried), or ``None`` when it succeeded or
            was cancelled.
        will_retry: whether the client retries after this attempt.
        stream: whether the call asked for a stream of events.
        request_body: the bytes sent, only when the client has
            ``hook_bodies=True``; ``None`` otherwise.
        response_body: the bytes received, only with ``hook_bodies=True`` and
            not for a stream's events; ``None`` otherwise.
    """

    method: str
    url: str
    attempt: int
    status: int | None
    elapsed: float
    request_id: str | None = None
    rate_limit: RateLimitInfo | None = None
    error: LlamaError | None = None
    will_retry: bool = False
    stream: bool = False
    request_body: bytes | None = None
    response_body: bytes | None = None


RequestHook: TypeAlias = Callable[[RequestAttempt], object]
"""A request hook: called with each `RequestAttempt`; what it returns is ignored."""


def validate_hooks(hooks: Iterable[RequestHook] | None) -> tuple[RequestHook, ...]:
    """The hooks as a tuple, refusing anything that is not a plain (non-async) callable."""
    if hooks is None:
        return ()
    if isinstance(hooks, (str, bytes, Mapping)) or not isinstance(hooks, Iterable):
        raise InvalidArgumentError("hooks must be a list of callables")
    checked = tuple(hooks)
    for hook in checked:
        if not callable(hook):
            raise InvalidArgumentError(f"hooks: {hook!r} is not callable")
        if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(
            getattr(hook, "__call__", None)  # noqa: B004 - an object with an async __call__
        ):
            raise InvalidArgumentError(
                f"hooks: {hook!r} is a coroutine function; hooks run synchronously on the "
                "event loop, so pass a plain function (it may schedule a task of its own)"
            )
    return checked


class AttemptReporter:
    """Follows the attempts of one call and hands a record of each to the hooks."""

    __slots__ = (
        "_body",
        "_error",
        "_headers",
        "_hooks",
        "_number",
        "_pending",
        "_raw",
        "_started",
        "_status",
        "_url",
        "bodies",
        "method",
        "stream",
    )

    def __init__(
        self,
        hooks: tuple[RequestHook, ...],
        method: str,
        url: str,
        body: bytes | None,
        *,
        stream: bool,
        bodies: bool,
    ) -> None:
        self._hooks = hooks
        self.method = method
        self._url = url
        self._body = body if bodies else None
        self.stream = stream
        self.bodies = bodies
        self._number = 0
        self._pending = False
        self._started = 0.0
        self._reset()

    def _reset(self) -> None:
        self._status: int | None = None
        self._headers: Mapping[str, str] | None = None
        self._raw: bytes | None = None
        self._error: LlamaError | None = None

    def start(self) -> None:
        """An attempt is about to be sent."""
        self._number += 1
        self._pending = True
        self._reset()
        self._started = time.perf_counter()

    def response(self, status: int, headers: Mapping[str, str], raw: bytes, url: str) -> None:
        """The attempt was answered with *status*."""
        self._status, self._headers, self._url = status, headers, url
        if self.bodies and not (self.stream and status < 300):
            self._raw = raw

    def failed(self, error: LlamaError) -> None:
        """The attempt produced no usable response."""
        self._error = error
        status = getattr(error, "status_code", None)
        if isinstance(status, int):
            self._status = status
            self._headers = getattr(error, "headers", None)

    def emit(self, *, will_retry: bool) -> None:
        """Report the attempt under way as decided."""
        if not self._pending:
            return
        self._pending = False
        error, status, headers = self._error, self._status, self._headers
        if error is None and status is not None and status >= 300 and headers is not None:
            from ._protocol import status_error

            error = status_error(
                status,
                headers,
                self._raw or b"",
                method=self.method,
                url=self._url,
                now=time.time(),
            )
        self._call(
            RequestAttempt(
                method=self.method,
                url=self._url,
                attempt=self._number,
                status=status,
                elapsed=time.perf_counter() - self._started,
                request_id=_request_id(headers),
                rate_limit=_rate_limit(headers),
                error=error,
                will_retry=will_retry,
                stream=self.stream,
                request_body=self._body,
                response_body=self._raw,
            )
        )

    def end(self, exc: BaseException, ended: str | None) -> None:
        """The call ended with *exc*: report the attempt under way, if any, as final.

        *ended* is how the keeper of calls in flight saw it end (a timeout, the
        client closing); the typed error the caller gets is made later, so one
        of the same type stands in for it here.
        """
        if not self._pending:
            return
        if isinstance(exc, LlamaError):
            self._error = exc
        elif ended == "timeout":
            self._error = APITimeoutError(
                f"{self.method} {self._url} timed out", method=self.method, url=self._url
            )
        elif ended == "closed":
            self._error = ClientStateError(
                f"{self.method} {self._url}: the client was closed while the call was running"
            )
        self.emit(will_retry=False)

    def _call(self, record: RequestAttempt) -> None:
        for hook in self._hooks:
            try:
                hook(record)
            except Exception:
                import logging  # not at import: importing llama_models loads no logging

                logging.getLogger("llama_models").exception(
                    "request hook %r raised; the call goes on", hook
                )


def _request_id(headers: Mapping[str, str] | None) -> str | None:
    if headers is None:
        return None
    from ._protocol import find_request_id

    return find_request_id(headers)


def _rate_limit(headers: Mapping[str, str] | None) -> RateLimitInfo | None:
    if headers is None:
        return None
    from ._protocol import parse_rate_limit

    return parse_rate_limit(headers)
