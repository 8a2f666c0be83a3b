"""llama_models: an async-first Python SDK for Meta's hosted Llama API.

``AsyncLlamaClient`` is the asynchronous client; ``LlamaClient`` is its blocking
twin. aiohttp and cattrs are imported on the first request, not here, so
importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import AsyncLlamaClient
from ._sync import LlamaClient
from ._sync._stream import ChatCompletionStream
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    LlamaError,
    ModelOutputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from .types import (
    APIResponse,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ImageContent,
    JsonSchemaFormat,
    Message,
    MessageParam,
    Model,
    ModelList,
    Moderation,
    RateLimitInfo,
    SystemMessage,
    TextContent,
    Tool,
    ToolCall,
    ToolMessage,
    Upload,
    UploadPart,
    UploadStatus,
    UserMessage,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncChatCompletionStream",
    "AsyncLlamaClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionStream",
    "ClientStateError",
    "ConflictError",
    "ImageContent",
    "InternalServerError",
    "InvalidArgumentError",
    "JsonSchemaFormat",
    "LlamaClient",
    "LlamaError",
    "Message",
    "MessageParam",
    "Model",
    "ModelList",
    "ModelOutputError",
    "Moderation",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "StreamInterruptedError",
    "SystemMessage",
    "TextContent",
    "Tool",
    "ToolCall",
    "ToolMessage",
    "UnprocessableEntityError",
    "Upload",
    "UploadPart",
    "UploadStatus",
    "UserMessage",
    "__version__",
]

if TYPE_CHECKING:
    from ._chat_stream import AsyncChatCompletionStream

__version__: str


def __getattr__(name: str) -> Any:
    # The version comes from the installed distribution's metadata, read once on demand.
    if name == "AsyncChatCompletionStream":  # its decoder and accumulator load on first use
        from ._chat_stream import AsyncChatCompletionStream

        globals()[name] = AsyncChatCompletionStream
        return AsyncChatCompletionStream
    if name == "__version__":
        from importlib.metadata import version

        value = version("llama-models-client")
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
