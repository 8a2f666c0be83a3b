"""The fake server's model catalogue, kept as pre-serialized JSON bytes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_MODELS", "ModelTable", "synthetic_models"]

_CREATED = 1735718400

#: The four models of llama-api.md §8.1, in the documented order.
DEFAULT_MODELS: tuple[Mapping[str, Any], ...] = tuple(
    {"id": model_id, "created": _CREATED, "object": "model", "owned_by": "Meta"}
    for model_id in (
        "Llama-3.3-70B-Instruct",
        "Llama-3.3-8B-Instruct",
        "Llama-4-Scout-17B-16E-Instruct-FP8",
        "Llama-4-Maverick-17B-128E-Instruct-FP8",
    )
)

_LIST_PREFIX = b'{"object": "list", "data": ['
_LIST_SUFFIX = b"]}"


def synthetic_models(start: int, count: int) -> list[dict[str, Any]]:
    """Return `count` generated model dicts numbered from `start` (1-based)."""
    return [
        {
            "id": f"synthetic-model-{number:05d}",
            "created": _CREATED,
            "object": "model",
            "owned_by": "Meta",
        }
        for number in range(start, start + count)
    ]


class ModelTable:
    """An immutable snapshot of the catalogue with every response body serialized once.

    The server swaps whole tables instead of mutating one, so handlers running on the
    server's loop never see a half-updated catalogue while another thread calls
    `set_models`.
    """

    __slots__ = ("by_id", "list_body")

    by_id: Mapping[str, bytes]
    list_body: bytes

    def __init__(self, by_id: dict[str, bytes]) -> None:
        self.by_id = by_id
        # Joining cached per-model bytes keeps a 10,000-model listing a single memcpy-ish
        # operation instead of a json.dumps of the whole catalogue per request.
        self.list_body = _LIST_PREFIX + b", ".join(by_id.values()) + _LIST_SUFFIX

    @classmethod
    def build(cls, models: Iterable[Mapping[str, Any]]) -> ModelTable:
        """Serialize `models`, rejecting entries without a string id or with a duplicate id."""
        return cls(_serialize({}, models))

    def extended(self, models: Iterable[Mapping[str, Any]]) -> ModelTable:
        """Return a new table with `models` appended, reusing the bytes already serialized."""
        return ModelTable(_serialize(dict(self.by_id), models))


def _serialize(into: dict[str, bytes], models: Iterable[Mapping[str, Any]]) -> dict[str, bytes]:
    for model in models:
        model_id = model.get("id")
        if not isinstance(model_id, str) or not model_id:
            raise ValueError(f"every model needs a non-empty string 'id', got {model!r}")
        if model_id in into:
            raise ValueError(f"duplicate model id {model_id!r}")
        into[model_id] = json.dumps(dict(model)).encode()
    return into
