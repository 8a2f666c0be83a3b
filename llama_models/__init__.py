"""llama_models: an async-first Python SDK for Meta's hosted Llama API.

``AsyncLlamaClient`` is the asynchronous client; ``LlamaClient`` is its blocking
twin. aiohttp and cattrs are imported on the first request, not here, so
importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import AsyncLlamaClient
from ._hooks import RequestAttempt
from ._options import BodyOptions, ClientOptions, RequestOptions, StreamOptions
from ._ratelimit._settings import RateLimit
from ._sync import LlamaClient
from ._sync._batch import Batch
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
    MaxIterationsError,
    ModelOutputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitBudgetError,
    RateLimitError,
    RateLimitStoreError,
    StreamInterruptedError,
    StructuredOutputError,
    UnprocessableEntityError,
)
from .types import (
    APIResponse,
    AssistantMessage,
    BatchProgress,
    BatchRequest,
    BatchResult,
    ChatCompletion,
    ChatCompletionChunk,
    ImageContent,
    JsonSchemaFormat,
    Message,
    MessageParam,
    Model,
    ModelList,
    Moderation,
    ParsedChatCompletion,
    RateLimitInfo,
    SystemMessage,
    TextContent,
    TextFormat,
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
    "AsyncBatch",
    "AsyncChatCompletionStream",
    "AsyncLlamaClient",
    "AsyncParsedChatCompletionStream",
    "AsyncToolRunner",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchProgress",
    "BatchRequest",
    "BatchResult",
    "BodyOptions",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionStream",
    "ClientOptions",
    "ClientStateError",
    "ConflictError",
    "FunctionTool",
    "ImageContent",
    "InternalServerError",
    "InvalidArgumentError",
    "JsonSchemaFormat",
    "LlamaClient",
    "LlamaError",
    "LocalRateLimitStore",
    "MaxIterationsError",
    "Message",
    "MessageParam",
    "Model",
    "ModelList",
    "ModelOutputError",
    "Moderation",
    "NotFoundError",
    "ParsedChatCompletion",
    "ParsedChatCompletionStream",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitBudgetError",
    "RateLimitError",
    "RateLimitInfo",
    "RateLimitStore",
    "RateLimitStoreError",
    "RequestAttempt",
    "RequestOptions",
    "StreamInterruptedError",
    "StreamOptions",
    "StructureError",
    "StructuredOutputError",
    "SystemMessage",
    "TextContent",
    "TextFormat",
    "Tool",
    "ToolCall",
    "ToolMessage",
    "ToolRunner",
    "UnprocessableEntityError",
    "Upload",
    "UploadPart",
    "UploadStatus",
    "UserMessage",
    "__version__",
    "converter",
    "function_tool",
    "json_schema",
    "make_converter",
]

if TYPE_CHECKING:
    import cattrs

    from ._batch import AsyncBatch
    from ._chat_stream import AsyncChatCompletionStream
    from ._converter import StructureError, make_converter
    from ._parsed_streams import AsyncParsedChatCompletionStream, ParsedChatCompletionStream
    from ._ratelimit._store import LocalRateLimitStore, RateLimitStore
    from ._schema import json_schema
    from ._tool_runner import AsyncToolRunner, ToolRunner
    from ._tools import FunctionTool, function_tool

    converter: cattrs.Converter

__version__: str


_LAZY = {  # loaded on first use: cattrs is not imported with the package
    "AsyncBatch": "._batch",
    "make_converter": "._converter",
    "StructureError": "._converter",
    "json_schema": "._schema",
    "FunctionTool": "._tools",
    "function_tool": "._tools",
    "AsyncToolRunner": "._tool_runner",
    "ToolRunner": "._tool_runner",
    "AsyncParsedChatCompletionStream": "._parsed_streams",
    "ParsedChatCompletionStream": "._parsed_streams",
    "LocalRateLimitStore": "._ratelimit._store",
    "RateLimitStore": "._ratelimit._store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name == "converter":  # the clients' default converter
        from ._converter import default_converter

        value = default_converter()
        globals()[name] = value
        return value
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
