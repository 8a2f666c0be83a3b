"""The tag and enum values of the Llama API's JSON, as the SDK and the fake server use them.

Every value is read once, at import, from the ``Literal`` types of the attrs
classes in `llama_models.types`, the one place the SDK spells them, so the fake
and the client cannot disagree. Only those classes are imported (attrs, no
converter), which keeps importing the fake cheap.
"""

from __future__ import annotations

import typing

from ._wire import tag_of, tags_of
from .chat import StreamEvent, TextDelta, ToolCallDelta
from .messages import (
    AssistantMessage,
    ImageContent,
    JsonSchemaFormat,
    StopReason,
    SystemMessage,
    TextContent,
    TextFormat,
    Tool,
    ToolChoiceMode,
    ToolMessage,
    UserMessage,
)
from .uploads import UploadMimeType, UploadPurpose

__all__ = [
    "ASSISTANT",
    "AUTO",
    "COMPLETE",
    "FUNCTION",
    "IMAGE_URL",
    "JSON_SCHEMA",
    "LENGTH",
    "METRICS",
    "MIME_TYPES",
    "NONE",
    "PROGRESS",
    "PURPOSES",
    "REQUIRED",
    "ROLES",
    "START",
    "STOP",
    "STOP_REASONS",
    "SYSTEM",
    "TEXT",
    "TEXT_DELTA",
    "TEXT_FORMAT",
    "TOOL",
    "TOOL_CALLS",
    "TOOL_CALL_DELTA",
    "TOOL_CHOICES",
    "USER",
]

# Message roles; `ROLES` is in the order the fake's validation messages list them.
USER: str
SYSTEM: str
TOOL: str
USER, SYSTEM, TOOL = (tag_of(cls, "role") for cls in (UserMessage, SystemMessage, ToolMessage))
ASSISTANT: str = AssistantMessage().role
ROLES: tuple[str, ...] = (USER, SYSTEM, ASSISTANT, TOOL)

# The ``type`` of a content item, of a ``response_format`` and of a tool.
TEXT: str = tag_of(TextContent)
IMAGE_URL: str = tag_of(ImageContent)
TEXT_FORMAT: str = tag_of(TextFormat)
JSON_SCHEMA: str = tag_of(JsonSchemaFormat)
FUNCTION: str = tag_of(Tool)

# Why the model stopped, and the ``tool_choice`` modes.
STOP_REASONS: tuple[str, ...] = typing.get_args(StopReason)
STOP: str
TOOL_CALLS: str
LENGTH: str
STOP, TOOL_CALLS, LENGTH = STOP_REASONS
TOOL_CHOICES: tuple[str, ...] = typing.get_args(ToolChoiceMode)
NONE: str
AUTO: str
REQUIRED: str
NONE, AUTO, REQUIRED = TOOL_CHOICES

# A streamed event's ``event_type``, and the ``type`` of its delta.
START: str
PROGRESS: str
COMPLETE: str
METRICS: str
START, PROGRESS, COMPLETE, METRICS = tags_of(StreamEvent, "event_type")
TEXT_DELTA: str = tag_of(TextDelta)
TOOL_CALL_DELTA: str = tag_of(ToolCallDelta)

# What an upload session may declare.
MIME_TYPES: frozenset[str] = frozenset(typing.get_args(UploadMimeType))
PURPOSES: frozenset[str] = frozenset(typing.get_args(UploadPurpose))
