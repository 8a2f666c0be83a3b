"""The public data classes. Plain attrs classes: no I/O, no serialization rules."""

from .chat import (
    ChatCompletion,
    ChatCompletionChunk,
    FunctionDelta,
    Metric,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UnknownDelta,
    UnknownEvent,
    Usage,
)
from .messages import (
    AssistantMessage,
    FunctionCall,
    ImageContent,
    JsonSchemaFormat,
    Message,
    SystemMessage,
    TextContent,
    Tool,
    ToolCall,
    ToolMessage,
    UnknownContent,
    UserMessage,
)
from .models import Model, ModelList
from .moderations import Moderation, ModerationResult
from .response import APIResponse, RateLimitInfo
from .uploads import (
    Upload,
    UploadMimeType,
    UploadPart,
    UploadPurpose,
    UploadStatus,
)

__all__ = [
    "APIResponse",
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "FunctionCall",
    "FunctionDelta",
    "ImageContent",
    "JsonSchemaFormat",
    "Message",
    "Metric",
    "Model",
    "ModelList",
    "Moderation",
    "ModerationResult",
    "RateLimitInfo",
    "StreamEvent",
    "SystemMessage",
    "TextContent",
    "TextDelta",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolMessage",
    "UnknownContent",
    "UnknownDelta",
    "UnknownEvent",
    "Upload",
    "UploadMimeType",
    "UploadPart",
    "UploadPurpose",
    "UploadStatus",
    "Usage",
    "UserMessage",
]
