"""The one cattrs converter, and the rules for turning JSON into attrs classes.

Production structuring runs without detailed validation, which is several times
faster; when it fails, the same data is structured again by a detailed copy so
the error message names the offending field (`cattrs.transform_error`).
Unknown keys are ignored, so a newer server never breaks an older client. Tests
switch to a strict copy that forbids unknown keys, so drift between the fake
server and the classes shows up at once.
"""

from __future__ import annotations

from typing import Any, TypeVar

import cattrs

T = TypeVar("T")

__all__ = ["StructureError", "set_strict", "structure", "structure_error_message"]


class StructureError(ValueError):
    """JSON that does not fit the expected class."""


def _make_converter(*, detailed: bool, forbid_extra_keys: bool) -> cattrs.Converter:
    # cattrs builds tuples for Sequence[T] fields, which keeps frozen classes immutable.
    return cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=forbid_extra_keys)


_fast = _make_converter(detailed=False, forbid_extra_keys=False)
_detailed = _make_converter(detailed=True, forbid_extra_keys=False)
_strict = _make_converter(detailed=True, forbid_extra_keys=True)
_active = _fast
_explain = _detailed


def set_strict(strict: bool) -> None:
    """Forbid unknown keys (for this project's tests), or go back to lenient."""
    global _active, _explain
    _active, _explain = (_strict, _strict) if strict else (_fast, _detailed)


def structure(data: Any, cls: type[T]) -> T:
    """Structure JSON *data* into *cls*, raising `StructureError` with a readable message."""
    try:
        return _active.structure(data, cls)
    except Exception as exc:
        raise StructureError(structure_error_message(data, cls)) from exc


def structure_error_message(data: Any, cls: type[Any]) -> str:
    """Explain why *data* does not structure into *cls*, field by field."""
    try:
        _explain.structure(data, cls)
    except cattrs.ClassValidationError as exc:
        return "; ".join(cattrs.transform_error(exc, path=cls.__name__))
    except Exception as exc:  # a non-dict where an object was expected, and the like
        return f"{cls.__name__}: {type(exc).__name__}: {exc}"
    return f"{cls.__name__}: invalid data"  # pragma: no cover - the fast path failed, so this does


def unstructure(value: Any) -> Any:
    """Turn an attrs instance back into JSON-ready data."""
    return _fast.unstructure(value)
