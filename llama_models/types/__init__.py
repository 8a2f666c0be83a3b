"""The public data classes. Plain attrs classes: no I/O, no serialization rules."""

from .models import Model, ModelList
from .response import APIResponse, RateLimitInfo
from .uploads import Upload, UploadMimeType, UploadPart, UploadPurpose, UploadStatus

__all__ = [
    "APIResponse",
    "Model",
    "ModelList",
    "RateLimitInfo",
    "Upload",
    "UploadMimeType",
    "UploadPart",
    "UploadPurpose",
    "UploadStatus",
]
