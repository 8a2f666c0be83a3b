"""The exception hierarchy.

Every exception this package raises on purpose is a `LlamaError`. The names below
`APIError` match the official ``llama-api-client`` so that ``except`` clauses carry
over. Exceptions from aiohttp, :mod:`json`, cattrs or asyncio never escape on their
own: when one is the reason for a failure it is kept as ``__cause__``.

This module imports nothing from aiohttp, so catching errors costs no import time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types.response import RateLimitInfo

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConflictError",
    "InternalServerError",
    "InvalidArgumentError",
    "LlamaError",
    "MaxIterationsError",
    "ModelOutputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitBudgetError",
    "RateLimitError",
    "RateLimitStoreError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "UnprocessableEntityError",
]


class LlamaError(Exception):
    """Base class of every error raised by ``llama_models``.

    Catch this to handle any failure of the SDK, local or remote, in one place.
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(LlamaError, ValueError):
    """An argument or setting was rejected before anything was sent.

    Raised at client construction (a malformed API key, a ``base_url`` with
    credentials in it) and at call time (an empty model id). It is also a
    :class:`ValueError`, so generic argument handling keeps working.
    """


class ClientStateError(LlamaError, RuntimeError):
    """The client cannot be used from here.

    The client was closed, is being used from an event loop other than the one
    it is bound to, or (for `LlamaClient`) from a forked child process.
    """


class ModelOutputError(LlamaError, ValueError):
    """The model's output is not what was asked for.

    Raised by the parsing helpers, never by a call itself: a tool call whose
    ``arguments`` are not valid JSON, or a structured-output reply that is not
    valid JSON. The call succeeded; what the model wrote cannot be read.

    Attributes:
        text: the output that could not be parsed.
    """

    def __init__(self, message: str, *, text: str) -> None:
        super().__init__(message)
        self.text = text


class StructuredOutputError(ModelOutputError):
    """The model's reply does not fit the class asked for with ``parse``.

    The reply may not be JSON, may be JSON of another shape, or may have been cut
    off at ``max_completion_tokens`` (``stop_reason == "length"``).

    Attributes:
        text: the reply as the model wrote it.
        errors: each failing place in the reply, such as
            ``"invalid value for type, expected int @ Invoice.lines[0].amount"``.
        stop_reason: why the model stopped.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        errors: Sequence[str] = (),
        stop_reason: str | None = None,
    ) -> None:
        super().__init__(message, text=text)
        self.errors = list(errors)
        self.stop_reason = stop_reason


class MaxIterationsError(LlamaError):
    """``run_tools`` reached ``max_iterations`` requests and the model still called tools.

    Attributes:
        messages: the conversation so far, tool results of the last turn
            included; pass it to a new run to go on.
    """

    def __init__(self, message: str, *, messages: Sequence[Any]) -> None:
        super().__init__(message)
        self.messages = list(messages)


class APIError(LlamaError):
    """A request to the Llama API failed.

    Attributes:
        method: the HTTP method of the request that failed.
        url: the URL of the request that failed (it never carries credentials).
    """

    method: str | None
    url: str | None

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class APIConnectionError(APIError):
    """No usable HTTP response arrived: the connection failed or was dropped.

    TLS certificate failures are connection errors too; they are never retried.
    """


class APITimeoutError(APIConnectionError):
    """The call ran out of time.

    The client's or the call's ``timeout``; for a stream also ``idle_timeout``
    (no event for that long) and ``stream_timeout`` (the whole stream).
    """


class StreamInterruptedError(APIConnectionError):
    """A stream stopped before its ``complete`` event.

    The connection was dropped, the stream was cut in the middle of an event,
    or it ended cleanly but early. Streams are never retried once they have
    started, because events have already reached the caller.

    Attributes:
        events_received: how many events arrived before the stream stopped.
    """

    def __init__(
        self,
        message: str,
        *,
        events_received: int,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.events_received = events_received


class APIResponseValidationError(APIError):
    """The server answered, but its answer could not be read.

    The body was not JSON, did not match the documented shape, or was larger than
    the client's ``max_response_bytes``.

    Attributes:
        status_code: the HTTP status of the response.
        body: the decoded JSON, or a bounded excerpt of the raw text.
        request_id: the server's request id, when it sent one.
        headers: the response headers.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object,
        headers: Mapping[str, str],
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.body = body
        self.headers = headers
        self.request_id = request_id


class APIStatusError(APIError):
    """The server answered with an error status (4xx or 5xx).

    Subclasses exist for the statuses a program usually handles on its own; any
    other status raises this class itself.

    Attributes:
        status_code: the HTTP status.
        message: a readable message, taken from the body's ``message``, ``detail``,
            ``title`` or ``error`` when present.
        body: the decoded JSON body, or a bounded excerpt of the raw text.
        request_id: the server's request id, when it sent one.
        headers: the response headers.
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object,
        headers: Mapping[str, str],
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.body = body
        self.headers = headers
        self.request_id = request_id

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status_code}: {self.message}{rid}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class APIStreamError(APIError):
    """The server reported an error in the middle of a stream.

    The response had already started with status 200, so the error arrives as
    a line of JSON in the event stream instead of as an HTTP status.

    Attributes:
        message: ``"the server reported an error mid-stream: "`` followed by the
            error's ``message``, ``detail``, ``title`` or ``error``.
        body: the decoded JSON of the error line (or its text excerpt).
        status_code: the ``status`` the error body names, when it names one.
        request_id: the server's request id, when the response carried one.
        events_received: how many events arrived before the error.
    """

    def __init__(
        self,
        message: str,
        *,
        body: object,
        status_code: int | None,
        events_received: int,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.body = body
        self.status_code = status_code
        self.events_received = events_received
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """HTTP 400: the server rejected the request as malformed."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the server refused the API key (wrong or revoked).

    A missing key fails earlier, when the client is created, with `InvalidArgumentError`.
    """


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key is valid but may not do this."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such model, upload or path."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the current state of the resource."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request was well-formed but failed validation."""


class RateLimitError(APIStatusError):
    """HTTP 429: the team's request or token budget is spent.

    Attributes:
        retry_after: seconds the server asked the client to wait, when it said so.
        rate_limit: the parsed ``x-ratelimit-*`` headers, when present.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object,
        headers: Mapping[str, str],
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
        rate_limit: RateLimitInfo | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            body=body,
            headers=headers,
            request_id=request_id,
            method=method,
            url=url,
        )
        self.retry_after = retry_after
        self.rate_limit = rate_limit


class RateLimitBudgetError(RateLimitError):
    """The client's own ``rate_limit`` has no room for the call in time; nothing was sent.

    Raised at once, before any request, when the budget opens again only
    after the call's timeout would have run out (or never, for a request whose
    estimated tokens exceed the whole budget). ``status_code`` is 429, as the
    server would have answered; ``body`` is ``None`` and ``headers`` are empty.

    Attributes:
        retry_after: seconds until the budget has room again, when that is known.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=429,
            body=None,
            headers={},
            method=method,
            url=url,
            retry_after=retry_after,
        )

    def __str__(self) -> str:
        return self.message


class RateLimitStoreError(LlamaError):
    """The store of the client's ``rate_limit`` (such as Redis) could not be reached or failed.

    Raised by a call that could not book its place in the budget; nothing was
    sent. A failure to record an answer afterwards is logged, and the call
    returns its answer.
    """


class InternalServerError(APIStatusError):
    """HTTP 500 or above: the server failed."""


_STATUS_ERRORS: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _status_error_class(status: int) -> type[APIStatusError]:
    """Return the exception class for an error *status*."""
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)
