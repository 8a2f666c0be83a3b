"""Batch jobs: one request of a batch, its result, and the batch's progress."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import frozen

from .chat import ChatCompletion
from .moderations import Moderation

if TYPE_CHECKING:
    from ..errors import LlamaError

__all__ = ["BatchProgress", "BatchRequest", "BatchResult", "CHAT_URL", "MODERATIONS_URL"]

#: The ``url`` of a chat completion request in a batch (the OpenAI batch-file spelling).
CHAT_URL = "/v1/chat/completions"
#: The ``url`` of a moderation request in a batch.
MODERATIONS_URL = "/v1/moderations"


@frozen
class BatchRequest:
    """One request of a batch: the API's JSON body, and where it goes.

    A plain dict in the shape of a batch-file line does as well:
    ``{"custom_id": "q1", "body": {...}}``, optionally with ``"method": "POST"``
    and ``"url"``.

    Attributes:
        body: the JSON body, exactly as the API takes it (``model``,
            ``messages``, ``temperature``...). It is checked as
            ``chat.completions.create`` or ``moderations.create`` check their
            arguments; ``"stream": true`` is refused.
        custom_id: your id for the request, handed back on its result.
        url: ``"/v1/chat/completions"`` (the default) or ``"/v1/moderations"``.
    """

    body: Mapping[str, Any]
    custom_id: str | None = None
    url: str = CHAT_URL


@frozen
class BatchResult:
    """The outcome of one request of a batch: its answer, or its error.

    Exactly one of `response` and `error` is set.

    Attributes:
        index: the request's position in the input, from 0.
        custom_id: the request's ``custom_id``, when it had one.
        response: the `ChatCompletion` or `Moderation` the API answered.
        error: why the request failed: an `InvalidArgumentError` for a request
            that was refused before anything was sent, an `APIStatusError` for
            an error status, an `APIConnectionError`... (after the client's
            retries).
    """

    index: int
    custom_id: str | None = None
    response: ChatCompletion | Moderation | None = None
    error: LlamaError | None = None

    @property
    def ok(self) -> bool:
        """Whether the request succeeded (`response` is set)."""
        return self.error is None


@frozen(kw_only=True)
class BatchProgress:
    """How far a batch has got; handed to its ``on_progress`` callback after each result.

    Attributes:
        done: requests finished, successes and failures alike.
        failed: of those, the requests that failed.
        total: the number of requests, when the input has a length (a list);
            ``None`` for an iterator.
        input_tokens: prompt tokens of the chat completions so far.
        output_tokens: completion tokens of the chat completions so far.
        elapsed: seconds since the batch started.
    """

    done: int
    failed: int
    total: int | None
    input_tokens: int
    output_tokens: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Requests finished per second so far (0 before the first)."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds until the batch ends at the rate so far; ``None`` if unknown."""
        rate = self.rate
        if self.total is None or rate <= 0:
            return None
        return max(self.total - self.done, 0) / rate
