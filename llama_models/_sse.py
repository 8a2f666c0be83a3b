"""An incremental server-sent-events decoder: bytes in, events out. No I/O.

It follows the SSE rules the official SDK applies to the Llama API (see the
wire reference, §3.5): lines end in ``\\n``, ``\\r\\n`` or ``\\r``; a blank line
dispatches the event; ``:`` starts a comment (keep-alives); ``data:`` lines
are joined with ``\\n``; one space after the colon is dropped; ``id`` and
``retry`` are ignored. Two forms report an error in the middle of a stream: an
event named ``error``, and a bare line of JSON with no field name, which is
what the Llama API sends.

The common case, ``data: {...}`` followed by a blank line, takes two string
comparisons per line.
"""

from __future__ import annotations

import codecs
import json

__all__ = ["ERROR", "SSEDecoder"]

#: The kind of an event that reports a server error.
ERROR = "error"


class SSEDecoder:
    """Decodes one stream. `feed` returns the events each piece completes.

    An event is ``(kind, data)``: *kind* is ``None`` for an ordinary message or
    `ERROR` for an error report, and *data* is its text.
    """

    __slots__ = ("_data", "_event", "_pending", "_utf8")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._pending = ""
        self._data: list[str] = []
        self._event: str | None = None

    @property
    def buffered(self) -> int:
        """Characters of an unfinished line held back (to cap a line without an end)."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[tuple[str | None, str]]:
        """Decode *chunk*; return the events it completes, in order.

        Raises:
            UnicodeDecodeError: the stream is not UTF-8.
        """
        text = self._utf8.decode(chunk)
        if self._pending:
            text = self._pending + text
        if "\r" in text:
            # A "\r" at the very end may be the first half of "\r\n": wait for more.
            held = text.endswith("\r")
            if held:
                text = text[:-1]
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if held:
                text += "\r"
        lines = text.split("\n")
        self._pending = lines.pop()
        if self._pending == "\r":
            self._pending = ""
            lines.append("")
        events: list[tuple[str | None, str]] = []
        data = self._data
        for line in lines:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
            elif not line:
                if data:
                    events.append((self._event, data[0] if len(data) == 1 else "\n".join(data)))
                    data.clear()
                self._event = None
            elif line[0] != ":":
                self._field(line, events)
        return events

    def _field(self, line: str, events: list[tuple[str | None, str]]) -> None:
        if line[0] in "{[":
            try:
                json.loads(line)
            except ValueError:
                pass
            else:
                events.append((ERROR, line))
                return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value or None
        elif name == "data":
            self._data.append(value)
        # "id", "retry" and unknown fields are ignored, as the SSE rules say.

    def finish(self) -> bool:
        """Call at the end of the stream; return whether it ended inside an event."""
        try:
            tail = self._pending + self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            return True
        return bool(tail.strip("\r")) or bool(self._data)
