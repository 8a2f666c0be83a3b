"""Chat completions: the answer of ``chat.completions.create`` and its stream chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from attrs import field, frozen

from ._wire import NOT_ON_THE_WIRE, WireObject
from .messages import AssistantMessage, ToolCall, _parse_json

T = TypeVar("T")

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ParsedChatCompletion",
    "FunctionDelta",
    "Metric",
    "StreamEvent",
    "TextDelta",
    "ToolCallDelta",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
]


@frozen
class Metric(WireObject):
    """One measurement of a completion, such as ``num_prompt_tokens``.

    Attributes:
        metric: the name.
        value: the value, a number exactly as the server sent it: an ``int``
            when it sent an integer (token counts, in practice), a ``float``
            otherwise.
        unit: the unit, such as ``"tokens"``, when given.
    """

    metric: str
    value: int | float
    unit: str | None = None


@frozen(kw_only=True)
class Usage:
    """Token counts of a completion, read from its metrics.

    Each count is the value the server sent, never rounded: an ``int`` as a
    rule, a ``float`` if the server sends a fraction. A count the server did
    not report is ``None``.
    """

    prompt_tokens: int | float | None = None
    completion_tokens: int | float | None = None
    total_tokens: int | float | None = None


def _usage(metrics: Sequence[Metric]) -> Usage:
    found = {metric.metric: metric.value for metric in metrics}
    return Usage(
        prompt_tokens=found.get("num_prompt_tokens"),
        completion_tokens=found.get("num_completion_tokens"),
        total_tokens=found.get("num_total_tokens"),
    )


@frozen(kw_only=True)
class ChatCompletion(WireObject):
    """A finished chat completion.

    ``completion.text`` is the reply, ``completion.tool_calls`` the calls the
    model asked for, ``completion.usage`` the token counts. A stream
    accumulates into the same class (``await stream.final_completion()``).

    Attributes:
        completion_message: the assistant's turn, which can be appended to
            ``messages`` to continue the conversation.
        id: the completion's id, when the server sent one.
        metrics: the server's measurements (token counts), in its order.
    """

    completion_message: AssistantMessage
    id: str | None = None
    metrics: Sequence[Metric] = field(default=())

    @property
    def text(self) -> str:
        """The reply text (``""`` when the model only called tools)."""
        return self.completion_message.text

    @property
    def tool_calls(self) -> Sequence[ToolCall]:
        """The tool calls the model made, in order."""
        return self.completion_message.tool_calls

    @property
    def stop_reason(self) -> str | None:
        """Why the model stopped, such as ``"stop"``, ``"tool_calls"`` or ``"length"``."""
        return self.completion_message.stop_reason

    @property
    def usage(self) -> Usage:
        """Prompt, completion and total token counts from `metrics`."""
        return _usage(self.metrics)

    def parse_json(self) -> Any:
        """The reply text decoded as JSON, for structured output.

        Raises:
            ModelOutputError: the reply is not valid JSON (for example, it was
                cut off at ``max_completion_tokens``).
        """
        return _parse_json(self.text, "the reply's contents")


@frozen(kw_only=True)
class ParsedChatCompletion(ChatCompletion, Generic[T]):
    """A chat completion whose reply was structured into the class asked for.

    ``chat.completions.parse`` returns it. Everything of `ChatCompletion` is
    here too; `to_dict` gives the server's JSON, without `parsed`.

    Attributes:
        parsed: the reply, as an instance of the class passed as
            ``response_format``.
    """

    parsed: T = field(metadata=NOT_ON_THE_WIRE)


@frozen
class TextDelta(WireObject):
    """A piece of the reply text."""

    text: str
    type: Literal["text"] = "text"


@frozen(kw_only=True)
class FunctionDelta(WireObject):
    """A piece of a tool call: its name (first piece) or a fragment of its arguments."""

    name: str | None = None
    arguments: str | None = None


@frozen(kw_only=True)
class ToolCallDelta(WireObject):
    """A piece of a tool call. The first piece of each call carries its `id`."""

    function: FunctionDelta
    id: str | None = None
    type: Literal["tool_call"] = "tool_call"


@frozen
class UnknownDelta(WireObject):
    """A delta of a type this version of the SDK does not know, kept whole.

    Attributes:
        type: the delta's ``type``.
        data: the whole delta as received.
    """

    type: str
    data: Mapping[str, Any]


@frozen(kw_only=True)
class StreamEvent(WireObject):
    """One event of a stream: ``start``, ``progress``, ``complete`` or ``metrics``.

    Attributes:
        event_type: which of the four it is.
        delta: the text or tool-call piece (an empty text delta on every event
            but ``progress``).
        stop_reason: set on ``complete``.
        metrics: set on ``metrics``: the token counts.
    """

    event_type: Literal["start", "progress", "complete", "metrics"]
    delta: TextDelta | ToolCallDelta | UnknownDelta
    stop_reason: str | None = None
    metrics: Sequence[Metric] = field(default=())


@frozen(kw_only=True)
class UnknownEvent(WireObject):
    """An event of a type this version of the SDK does not know, kept whole.

    Attributes:
        event_type: the event's ``event_type``.
        data: the whole event as received.
    """

    event_type: str
    data: Mapping[str, Any]


@frozen(kw_only=True)
class ChatCompletionChunk(WireObject):
    """One server-sent event of a streamed chat completion.

    `text` and `delta` read the event without narrowing it first.

    Attributes:
        event: the event (a `StreamEvent`, or an `UnknownEvent` from a newer
            server).
        id: the completion's id, the same on every chunk.
    """

    event: StreamEvent | UnknownEvent
    id: str | None = None

    @property
    def text(self) -> str:
        """The text this chunk adds to the reply (``""`` for any other event)."""
        event = self.event
        if isinstance(event, StreamEvent) and isinstance(event.delta, TextDelta):
            return event.delta.text
        return ""

    @property
    def delta(self) -> TextDelta | ToolCallDelta | UnknownDelta | None:
        """The event's delta; ``None`` for an `UnknownEvent`, whose data is in ``event.data``.

        Narrow it with ``isinstance``, as in
        ``if isinstance(chunk.delta, ToolCallDelta): ...``.
        """
        event = self.event
        return event.delta if isinstance(event, StreamEvent) else None
