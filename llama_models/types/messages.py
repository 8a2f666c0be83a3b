"""Messages, content items, tools and response formats: what a chat request is made of.

Every class here can be passed where the API takes the matching JSON, and plain
dicts in the documented JSON shape are accepted everywhere too. Requests are
checked before anything is sent: a malformed message fails with
`InvalidArgumentError` that names the message and the field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from attrs import field, frozen

from ._wire import WireObject

__all__ = [
    "AssistantMessage",
    "FunctionCall",
    "ImageContent",
    "JsonSchemaFormat",
    "Message",
    "MessageParam",
    "SystemMessage",
    "TextContent",
    "TextFormat",
    "Tool",
    "ToolCall",
    "ToolMessage",
    "UnknownContent",
    "UserMessage",
]

StopReason = Literal["stop", "tool_calls", "length"]
"""Why the model stopped: the values the API documents (a newer one is kept as sent)."""

ToolChoiceMode = Literal["none", "auto", "required"]
"""The ``tool_choice`` values besides a tool: call none, let the model choose, call one."""


@frozen
class TextContent(WireObject):
    """A text content item: ``{"type": "text", "text": ...}``."""

    text: str
    type: Literal["text"] = "text"


@frozen
class ImageContent(WireObject):
    """An image content item: ``{"type": "image_url", "image_url": {"url": ...}}``.

    *url* is an ``https://`` URL or a ``data:image/...;base64,...`` URL. Build
    the latter from a local file or from bytes with `from_file` and
    `from_bytes`, which check the API's limits (JPEG, PNG, GIF or ICO; at most
    25 MB) before anything is sent. A request may carry at most 9 images.
    """

    url: str
    type: Literal["image_url"] = "image_url"

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, mime_type: str | None = None
    ) -> ImageContent:
        """Read an image file into a ``data:`` URL item.

        The type is taken from *mime_type*, else from the file's first bytes,
        else from its extension; it must be one the API accepts.

        Raises:
            InvalidArgumentError: the file is missing, empty, too large or not
                an accepted image type.
        """
        from .._images import read_image

        data, sniffed = read_image(path, mime_type)
        return cls.from_bytes(data, mime_type=sniffed)

    @classmethod
    def from_bytes(cls, data: bytes, *, mime_type: str | None = None) -> ImageContent:
        """Encode image bytes as a ``data:`` URL item.

        The type is *mime_type*, or recognised from the bytes themselves.

        Raises:
            InvalidArgumentError: the bytes are empty, too large or not an
                accepted image type.
        """
        from .._images import data_url

        return cls(data_url(data, mime_type))


@frozen
class UnknownContent(WireObject):
    """A content item of a type this version of the SDK does not know.

    A newer server may send one; it is kept whole instead of failing the call.

    Attributes:
        type: the item's ``type``.
        data: the whole item as received.
    """

    type: str
    data: Mapping[str, Any]


@frozen
class UserMessage(WireObject):
    """A message from the user: text, or a sequence of text and image items."""

    content: str | Sequence[TextContent | ImageContent]
    role: Literal["user"] = "user"


@frozen
class SystemMessage(WireObject):
    """Instructions for the model: text, or a sequence of text items."""

    content: str | Sequence[TextContent]
    role: Literal["system"] = "system"


@frozen
class FunctionCall(WireObject):
    """The function a tool call invokes.

    Attributes:
        name: the tool's name.
        arguments: the arguments as the model wrote them: a JSON text that may
            be invalid (see `ToolCall.parse_arguments`).
    """

    name: str
    arguments: str


@frozen
class ToolCall(WireObject):
    """A call the model asks the program to make.

    Answer it with ``ToolMessage.for_call(call, result)``.

    Attributes:
        id: the call's id, to be quoted in the tool result.
        function: the function name and its JSON arguments.
    """

    id: str
    function: FunctionCall

    @property
    def name(self) -> str:
        """The tool's name (``function.name``)."""
        return self.function.name

    def parse_arguments(self) -> dict[str, Any]:
        """The arguments, decoded from JSON: a dict of argument names and values.

        Raises:
            ModelOutputError: the model wrote arguments that are not valid
                JSON, or JSON that is not an object (such as a list or a
                number).
        """
        what = f"the arguments of tool call {self.name!r}"
        arguments = _parse_json(self.function.arguments, what)
        if not isinstance(arguments, dict):
            from ..errors import ModelOutputError

            text = self.function.arguments
            kind = _JSON_KINDS.get(type(arguments), "null")
            raise ModelOutputError(
                f"{what} are not a JSON object but {kind}: {_shown(text)!r}", text=text
            )
        return arguments


@frozen
class ToolMessage(WireObject):
    """The result of a tool call, sent back to the model.

    Build it from the call with `for_call`, which quotes the call's id.
    """

    tool_call_id: str
    content: str | Sequence[TextContent]
    role: Literal["tool"] = "tool"

    @classmethod
    def for_call(cls, call: ToolCall, result: Any) -> ToolMessage:
        """The message that answers *call* with *result*.

        A ``str`` result is sent as it is; anything else is encoded as JSON.
        """
        if isinstance(result, str):
            return cls(call.id, result)
        try:
            text = json.dumps(result, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"the result for tool call {call.name!r} cannot be encoded as JSON: {exc}"
            ) from exc
        return cls(call.id, text)


@frozen(kw_only=True)
class AssistantMessage(WireObject):
    """A turn of the model: its reply text, the tool calls it made, why it stopped.

    This is the ``completion_message`` of a `ChatCompletion`, and can be sent
    back as it is in the next request's ``messages`` to continue the
    conversation.

    Attributes:
        content: the reply: a text item (as the server sends it), a plain
            ``str``, an `UnknownContent`, or ``None``.
        stop_reason: ``"stop"``, ``"tool_calls"`` or ``"length"``; a newer
            server's value is kept as sent.
        tool_calls: the tool calls the model made, in order.
        role: ``"assistant"``. A role newer than this SDK is kept as the
            server sent it, but such a message is refused (with
            `InvalidArgumentError`, before anything is sent) when it goes back
            in ``messages``; ``attrs.evolve(message, role="assistant")`` sends
            it as an ordinary assistant turn.
    """

    content: str | TextContent | UnknownContent | None = None
    stop_reason: str | None = None
    tool_calls: Sequence[ToolCall] = field(default=())
    role: str = "assistant"

    @property
    def text(self) -> str:
        """The reply text (``""`` when there is none)."""
        content = self.content
        if isinstance(content, TextContent):
            return content.text
        if isinstance(content, str):
            return content
        return ""


Message = UserMessage | SystemMessage | ToolMessage | AssistantMessage
"""Any message class; plain dicts with a ``role`` are accepted too."""

MessageParam = Message | Mapping[str, Any]
"""What ``messages`` takes: a message class, or a dict in the API's shape.

Annotate a conversation as ``list[MessageParam]`` to mix dicts with message
objects, such as an answer's ``completion_message``.
"""


@frozen(kw_only=True)
class Tool(WireObject):
    """A function the model may call: ``{"type": "function", "function": {...}}``.

    Attributes:
        name: letters, digits, ``_`` and ``-``; at most 64 characters.
        description: what the function does, for the model.
        parameters: a JSON Schema object for the arguments; ``None`` for none.
        strict: ask the model to follow *parameters* exactly.
    """

    name: str
    description: str | None = None
    parameters: Mapping[str, Any] | None = None
    strict: bool | None = None
    type: Literal["function"] = "function"


@frozen
class JsonSchemaFormat(WireObject):
    """Structured output: ``{"type": "json_schema", "json_schema": {"name", "schema"}}``.

    The reply text is then JSON that follows *schema*; read it with
    `ChatCompletion.parse_json`.
    """

    name: str
    schema: Mapping[str, Any]
    type: Literal["json_schema"] = "json_schema"


@frozen
class TextFormat(WireObject):
    """Plain text output, the default: ``{"type": "text"}``."""

    type: Literal["text"] = "text"


_JSON_KINDS: Mapping[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def _shown(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "…"


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        from ..errors import ModelOutputError

        raise ModelOutputError(
            f"{what} are not valid JSON ({exc}): {_shown(text)!r}", text=text
        ) from None
