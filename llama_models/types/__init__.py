"""The public data classes. Plain attrs classes: no I/O, no serialization rules."""

from .models import Model, ModelList
from .response import APIResponse, RateLimitInfo

__all__ = ["APIResponse", "Model", "ModelList", "RateLimitInfo"]
