"""Fold the chunks of a stream into the `ChatCompletion` the non-streaming call returns."""

from __future__ import annotations

from .types._values import COMPLETE as _COMPLETE
from .types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    Metric,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
)
from .types.messages import AssistantMessage, FunctionCall, TextContent, ToolCall

__all__ = ["Accumulator"]


class _PartialCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self, call_id: str) -> None:
        self.id = call_id
        self.name = ""
        self.arguments: list[str] = []


class Accumulator:
    """Collects what a stream says, chunk by chunk.

    Text deltas are joined; a tool-call delta that carries an ``id`` starts a
    call and later deltas without one add argument fragments to the call
    started last (the wire reference, §3.3 and §8.7); the ``complete`` event
    gives the stop reason and the ``metrics`` event the token counts.
    """

    __slots__ = ("_calls", "_metrics", "_text", "complete", "id", "stop_reason")

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: list[_PartialCall] = []
        self._metrics: tuple[Metric, ...] = ()
        self.id: str | None = None
        self.stop_reason: str | None = None
        self.complete = False

    def add(self, chunk: ChatCompletionChunk) -> None:
        """Take in one chunk."""
        if chunk.id is not None:
            self.id = chunk.id
        event = chunk.event
        if not isinstance(event, StreamEvent):
            return  # an event type from a newer server: nothing we know how to fold
        delta = event.delta
        if isinstance(delta, TextDelta):
            if delta.text:
                self._text.append(delta.text)
        elif isinstance(delta, ToolCallDelta):
            self._tool_delta(delta)
        if event.stop_reason is not None:
            self.stop_reason = event.stop_reason
        if event.event_type == _COMPLETE:
            self.complete = True
        elif event.metrics:
            self._metrics = tuple(event.metrics)

    def _tool_delta(self, delta: ToolCallDelta) -> None:
        calls = self._calls
        if delta.id is not None and (not calls or calls[-1].id != delta.id):
            calls.append(_PartialCall(delta.id))
        elif not calls:
            calls.append(_PartialCall(""))  # a server that never names the call
        call = calls[-1]
        if delta.function.name:
            call.name = delta.function.name
        if delta.function.arguments:
            call.arguments.append(delta.function.arguments)

    def completion(self) -> ChatCompletion:
        """The completion as received so far."""
        message = AssistantMessage(
            content=TextContent("".join(self._text)),
            stop_reason=self.stop_reason,
            tool_calls=tuple(
                ToolCall(call.id, FunctionCall(call.name, "".join(call.arguments)))
                for call in self._calls
            ),
        )
        return ChatCompletion(completion_message=message, id=self.id, metrics=self._metrics)
