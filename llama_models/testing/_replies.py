"""Scripted chat replies: what the fake answers a chat completion with, and how it streams it."""

from __future__ import annotations

import collections
import json as _json
import math
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import attrs

from ..types._values import STOP, TOOL_CALLS

__all__ = ["ChatReply", "ReplyQueue", "ScriptedToolCall", "compact_json", "fragments_of"]

# A word and the whitespace after it, or whitespace that no word precedes: the pieces join
# back to the original text.
_WORD = re.compile(r"\S+\s*|\s+")

Arguments = Mapping[str, Any] | str


# One encoder for all: json.dumps builds a new one per call when given options.
_COMPACT = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> str:
    """Serialize `value` without insignificant whitespace, non-ASCII characters kept as is."""
    return _COMPACT.encode(value)


@attrs.frozen
class ScriptedToolCall:
    """One tool call of a scripted reply."""

    #: The tool call id, unique per reply.
    id: str
    #: The name of the function to call.
    name: str
    #: The arguments exactly as sent, usually JSON but possibly any string.
    arguments: str


@attrs.frozen(init=False)
class ChatReply:
    """A scripted answer to one chat completion, sent whole or streamed.

    Create replies through the classmethods — :meth:`text`, :meth:`tool_call`,
    :meth:`tool_calls` and :meth:`json` — and queue them with
    :meth:`FakeLlamaAPI.enqueue_replies`. A reply is the same completion message whether
    the request streams or not: concatenating the streamed deltas gives exactly the
    ``content`` and ``tool_calls`` of the non-streaming answer. Replies are immutable
    values, so one instance may be queued several times; its tool-call ids are fixed when
    it is created.

    Every classmethod also takes keywords that shape the stream (they change nothing in a
    non-streaming answer):

    * `chunks` — the exact fragments of the text (or of the tool-call arguments) to send,
      one per ``progress`` event. They must join to the whole text; for several tool
      calls they must join to the calls' arguments one after the other, each fragment
      within one call.
    * `chunk_size` — send fragments of this many characters instead. With neither, the
      text is split on word boundaries, each word keeping the spaces after it.
    * `event_delay` — seconds to wait between two events; stopping the server cuts the
      wait short. Without a delay, events are written in large batches.
    * `keepalive` — put a ``: keep-alive`` comment (and a blank line) before every event.

    Attributes:
        content: The text of the answer; ``""`` for tool calls.
        calls: The tool calls of the answer, in order; empty for a text answer.
        stop_reason: ``"stop"``, ``"tool_calls"`` or ``"length"`` (or anything a test
            wants to send).
        chunks: The explicit fragments, or ``None``.
        chunk_size: Characters per fragment, or ``None``.
        event_delay: Seconds between two streamed events.
        keepalive: Whether a keep-alive comment precedes every streamed event.
    """

    content: str
    calls: tuple[ScriptedToolCall, ...]
    stop_reason: str
    chunks: tuple[str, ...] | None
    chunk_size: int | None
    event_delay: float
    keepalive: bool

    def __init__(self, *args: NoReturn, **kwargs: NoReturn) -> None:
        raise TypeError(
            "create a ChatReply through one of its classmethods, e.g. ChatReply.text('Hi')"
        )

    @classmethod
    def _make(
        cls,
        content: str,
        calls: tuple[ScriptedToolCall, ...],
        stop_reason: str,
        chunks: Sequence[str] | None,
        chunk_size: int | None,
        event_delay: float,
        keepalive: bool,
    ) -> ChatReply:
        if chunks is not None and chunk_size is not None:
            raise ValueError("pass either chunks= or chunk_size=, not both")
        if chunk_size is not None and (
            isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
        ):
            raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
        if not math.isfinite(event_delay) or event_delay < 0:
            raise ValueError(
                f"event_delay must be a finite number of seconds >= 0, got {event_delay!r}"
            )
        fixed = None if chunks is None else tuple(chunks)
        if fixed is not None and not all(isinstance(chunk, str) for chunk in fixed):
            raise TypeError("chunks must be strings")
        reply = object.__new__(cls)
        reply.__attrs_init__(
            content, calls, stop_reason, fixed, chunk_size, float(event_delay), bool(keepalive)
        )
        # Fails early, at the test's own line, when explicit chunks do not fit the reply.
        fragments_of(reply)
        return reply

    @classmethod
    def text(
        cls,
        text: str,
        *,
        stop_reason: str = STOP,
        chunks: Sequence[str] | None = None,
        chunk_size: int | None = None,
        event_delay: float = 0.0,
        keepalive: bool = False,
    ) -> ChatReply:
        """Answer with the assistant message `text`.

        `stop_reason` is sent as given; ``"length"`` makes the answer look cut short by
        ``max_completion_tokens``. See the class docs for the stream-shaping keywords.
        """
        return cls._make(str(text), (), stop_reason, chunks, chunk_size, event_delay, keepalive)

    @classmethod
    def tool_call(
        cls,
        name: str,
        arguments: Arguments,
        *,
        id: str | None = None,
        chunks: Sequence[str] | None = None,
        chunk_size: int | None = None,
        event_delay: float = 0.0,
        keepalive: bool = False,
    ) -> ChatReply:
        """Answer with one call of the tool `name`.

        `arguments` is a mapping, sent as compact JSON, or a string sent verbatim (so a
        test can send arguments that are not valid JSON). `id` defaults to a random
        UUID. The answer has empty text content and stop reason ``"tool_calls"``. See
        the class docs for the stream-shaping keywords.
        """
        call = _tool_call(name, arguments, id)
        return cls._make("", (call,), TOOL_CALLS, chunks, chunk_size, event_delay, keepalive)

    @classmethod
    def tool_calls(
        cls,
        *calls: tuple[str, Arguments],
        chunks: Sequence[str] | None = None,
        chunk_size: int | None = None,
        event_delay: float = 0.0,
        keepalive: bool = False,
    ) -> ChatReply:
        """Answer with several tool calls, each given as a ``(name, arguments)`` pair.

        Arguments are treated as in :meth:`tool_call`; every call gets a random UUID
        id. Streamed, the calls follow one another, each opened by a delta carrying its
        id and name. See the class docs for the stream-shaping keywords.
        """
        if not calls:
            raise ValueError("tool_calls() needs at least one (name, arguments) pair")
        scripted = tuple(_tool_call(name, arguments, None) for name, arguments in calls)
        return cls._make("", scripted, TOOL_CALLS, chunks, chunk_size, event_delay, keepalive)

    @classmethod
    def json(
        cls,
        value: Any,
        *,
        chunks: Sequence[str] | None = None,
        chunk_size: int | None = None,
        event_delay: float = 0.0,
        keepalive: bool = False,
    ) -> ChatReply:
        """Answer a structured-output request: the text is `value` as compact JSON.

        Structured output comes back as a string in the text content, so this is
        :meth:`text` with the serialization done for you. See the class docs for the
        stream-shaping keywords.
        """
        text = compact_json(value)
        return cls._make(text, (), STOP, chunks, chunk_size, event_delay, keepalive)


class ReplyQueue:
    """Scripted replies waiting for chat completions, first in, first out; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: collections.deque[ChatReply] = collections.deque()

    def extend(self, replies: Iterable[ChatReply]) -> None:
        """Queue `replies` after those already waiting."""
        queued = list(replies)
        for reply in queued:
            if not isinstance(reply, ChatReply):
                raise TypeError(f"expected a ChatReply, got {reply!r}")
        with self._lock:
            self._replies.extend(queued)

    def pop(self) -> ChatReply | None:
        """Take the oldest waiting reply, or ``None`` when none waits."""
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._replies)


def fragments_of(reply: ChatReply) -> list[list[str]]:
    """The ``progress`` fragments of `reply`: of its text, or of each call's arguments.

    A text answer gives one list, the text's fragments; a tool-call answer gives one list
    per call, the fragments of its arguments.
    """
    pieces = [call.arguments for call in reply.calls] if reply.calls else [reply.content]
    if reply.chunks is not None:
        return _distribute(
            reply.chunks, pieces, "the tool-call arguments" if reply.calls else "the text"
        )
    if reply.chunk_size is not None:
        size = reply.chunk_size
        return [[piece[i : i + size] for i in range(0, len(piece), size)] for piece in pieces]
    return [_WORD.findall(piece) for piece in pieces]


def _tool_call(name: str, arguments: Arguments, call_id: str | None) -> ScriptedToolCall:
    if not isinstance(arguments, str):
        arguments = compact_json(dict(arguments))
    return ScriptedToolCall(
        id=str(uuid.uuid4()) if call_id is None else call_id, name=name, arguments=arguments
    )


def _distribute(chunks: tuple[str, ...], pieces: list[str], what: str) -> list[list[str]]:
    if "".join(chunks) != "".join(pieces):
        raise ValueError(f"chunks must join to exactly {what}")
    result: list[list[str]] = []
    remaining = iter(chunks)
    for piece in pieces:
        fragments: list[str] = []
        filled = 0
        while filled < len(piece):
            chunk = next(remaining)
            fragments.append(chunk)
            filled += len(chunk)
        if filled != len(piece):
            raise ValueError("every chunk must lie within the arguments of one tool call")
        result.append(fragments)
    # Empty chunks after the last piece still go out as empty deltas.
    result[-1].extend(remaining)
    return result
