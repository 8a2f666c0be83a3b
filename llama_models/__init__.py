"""llama_models: an async-first Python SDK for Meta's hosted Llama API.

``AsyncLlamaClient`` is the asynchronous client; ``LlamaClient`` is its blocking
twin. aiohttp and cattrs are imported on the first request, not here, so
importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

from ._client import AsyncLlamaClient
from ._sync import LlamaClient
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    LlamaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from .types import (
    APIResponse,
    Model,
    ModelList,
    RateLimitInfo,
    Upload,
    UploadPart,
    UploadStatus,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncLlamaClient",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConflictError",
    "InternalServerError",
    "InvalidArgumentError",
    "LlamaClient",
    "LlamaError",
    "Model",
    "ModelList",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "UnprocessableEntityError",
    "Upload",
    "UploadPart",
    "UploadStatus",
    "__version__",
]

__version__: str


def __getattr__(name: str) -> Any:
    # The version comes from the installed distribution's metadata, read once on demand.
    if name == "__version__":
        from importlib.metadata import version

        value = version("llama-models-client")
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
