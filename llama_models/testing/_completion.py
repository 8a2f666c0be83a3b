"""One chat completion as the fake sends it: a reply rendered as JSON, or as SSE events.

Both renderings come from the same `ChatReply`, so the streamed deltas always add up to
the non-streaming answer (llama-api.md §1.3, §3.2, §3.3, §8).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..types._values import (
    ASSISTANT,
    COMPLETE,
    METRICS,
    PROGRESS,
    START,
    TEXT,
    TEXT_DELTA,
    TOOL_CALL_DELTA,
)
from ._replies import ChatReply, compact_json, fragments_of
from ._validation import message_text

__all__ = ["Completion", "prompt_tokens"]

_EMPTY_TEXT: Mapping[str, str] = {"type": TEXT_DELTA, "text": ""}
# A placeholder for the fragment in an event template; JSON always escapes NUL.
_MARK = "\x00"
_MARK_JSON = b'"\\u0000"'


@attrs.frozen
class Completion:
    """A reply with its completion id and token counts, ready to send."""

    id: str
    reply: ChatReply
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def build(cls, reply: ChatReply, prompt: int) -> Completion:
        """Give `reply` a fresh id and count its tokens; `prompt` is the prompt's count.

        A token is a whitespace-separated word: rough, but deterministic.
        """
        completion = _words(reply.content) + sum(
            _words(call.name) + _words(call.arguments) for call in reply.calls
        )
        return cls(str(uuid.uuid4()), reply, prompt, completion)

    @property
    def total_tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens

    def metrics(self) -> list[dict[str, Any]]:
        """The three token counts in the documented order (§4.5)."""
        return [
            {"metric": name, "value": value, "unit": "tokens"}
            for name, value in (
                ("num_completion_tokens", self.completion_tokens),
                ("num_prompt_tokens", self.prompt_tokens),
                ("num_total_tokens", self.total_tokens),
            )
        ]

    def json_body(self) -> bytes:
        """The non-streaming answer, shaped like §8.2 and §8.4."""
        reply = self.reply
        message = {
            "role": ASSISTANT,
            "content": {"type": TEXT, "text": reply.content},
            "stop_reason": reply.stop_reason,
            "tool_calls": [
                {"id": call.id, "function": {"name": call.name, "arguments": call.arguments}}
                for call in reply.calls
            ],
        }
        answer = {"id": self.id, "completion_message": message, "metrics": self.metrics()}
        return json.dumps(answer, ensure_ascii=False).encode()

    def sse_events(self) -> Iterator[bytes]:
        """The streamed answer, one complete ``data: …\\n\\n`` event at a time (§8.6, §8.7).

        ``start``, then a ``progress`` event per fragment, ``complete`` with the stop
        reason, and ``metrics``. Every event carries a delta (empty text where there is
        nothing to add) and the completion id.
        """
        reply = self.reply
        yield self._event(START, _EMPTY_TEXT)
        # Progress events differ only in their fragment: serialize the rest once.
        if reply.calls:
            head, tail = self._template({"type": TOOL_CALL_DELTA, "function": {"arguments": _MARK}})
            for call, fragments in zip(reply.calls, fragments_of(reply), strict=True):
                function = {"name": call.name, "arguments": ""}
                yield self._event(
                    PROGRESS, {"type": TOOL_CALL_DELTA, "id": call.id, "function": function}
                )
                for fragment in fragments:
                    yield head + compact_json(fragment).encode() + tail
        else:
            head, tail = self._template({"type": TEXT_DELTA, "text": _MARK})
            for fragment in fragments_of(reply)[0]:
                yield head + compact_json(fragment).encode() + tail
        yield self._event(COMPLETE, _EMPTY_TEXT, stop_reason=reply.stop_reason)
        yield self._event(METRICS, _EMPTY_TEXT, metrics=self.metrics())

    def _event(self, event_type: str, delta: Mapping[str, Any], **extra: Any) -> bytes:
        event = {"event_type": event_type, "delta": delta, **extra}
        return b"data: " + compact_json({"id": self.id, "event": event}).encode() + b"\n\n"

    def _template(self, delta: Mapping[str, Any]) -> tuple[bytes, bytes]:
        head, tail = self._event(PROGRESS, delta).split(_MARK_JSON)
        return head, tail


def prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """The tokens of the prompt `messages`: their words, tool-call arguments included."""
    return sum(_message_tokens(message) for message in messages)


def _message_tokens(message: Mapping[str, Any]) -> int:
    calls = message.get("tool_calls") or ()
    return _words(message_text(message)) + sum(
        _words(call["function"]["name"]) + _words(call["function"]["arguments"]) for call in calls
    )


def _words(text: str) -> int:
    return len(text.split())
