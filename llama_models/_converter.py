"""The cattrs converters, and the one entry point that turns JSON into attrs classes.

`structure` first tries a generated fast path (`_fastpath`) that handles JSON of
exactly the expected form. Anything else goes to cattrs with detailed
validation, which is lenient where cattrs is (unknown keys are ignored, so a
newer server never breaks an older client) and explains real failures field by
field (`cattrs.transform_error`).

The test suite switches on strict mode: unknown keys are then forbidden, so
drift between the fake server and the classes shows up at once, and every
fast-path result is checked against cattrs' own.
"""

from __future__ import annotations

import contextlib
import gc
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import cattrs

from ._fastpath import NUMBER, Mismatch, Tagged, fast_structure_fn, union_key
from .types.chat import (
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UnknownDelta,
    UnknownEvent,
)
from .types.messages import TextContent, UnknownContent

T = TypeVar("T")

__all__ = ["StructureError", "paused_gc", "set_strict", "structure", "unstructure"]


class StructureError(ValueError):
    """JSON that does not fit the expected class."""


# Every tagged union of the API, keyed by its members. A tag this SDK does not know
# becomes the union's Unknown class holding the whole object, so a newer server
# never breaks parsing.
UNIONS: Mapping[frozenset[Any], Tagged] = {
    frozenset({TextDelta, ToolCallDelta, UnknownDelta}): Tagged(
        "type",
        {"text": TextDelta, "tool_call": ToolCallDelta},
        lambda data: UnknownDelta(str(data.get("type", "")), data),
    ),
    frozenset({StreamEvent, UnknownEvent}): Tagged(
        "event_type",
        dict.fromkeys(("start", "progress", "complete", "metrics"), StreamEvent),
        lambda data: UnknownEvent(event_type=str(data.get("event_type", "")), data=data),
    ),
    frozenset({str, TextContent, UnknownContent}): Tagged(
        "type",
        {"text": TextContent},
        lambda data: UnknownContent(str(data.get("type", "")), data),
        allow_str=True,
    ),
}


def _register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    def structure_union(value: Any, tp: Any) -> Any:
        tagged = UNIONS[union_key(tp)]  # type: ignore[index]
        if tagged.allow_str and isinstance(value, str):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"expected an object with {tagged.key!r}, got {type(value).__name__}")
        member = tagged.members.get(str(value.get(tagged.key)))
        if member is None:
            return tagged.unknown(value)
        return converter.structure(value, member)

    converter.register_structure_hook_func(lambda tp: union_key(tp) in UNIONS, structure_union)
    converter.register_structure_hook_func(lambda tp: union_key(tp) == NUMBER, _structure_number)
    return converter


def _structure_number(value: Any, tp: Any) -> int | float | None:
    # An ``int | float`` field (a metric's value) keeps the number the server sent, so
    # an integer stays an int and a fraction is not truncated; anything else goes
    # through float(), as cattrs does for a plain float field.
    if value.__class__ is int or value.__class__ is float:
        return value
    if value is None and type(None) in typing.get_args(tp):
        return None
    return float(value)


# cattrs builds tuples for Sequence[T] fields, which keeps frozen classes immutable.
_lenient = _register_hooks(cattrs.Converter(detailed_validation=True, forbid_extra_keys=False))
_strict = _register_hooks(cattrs.Converter(detailed_validation=True, forbid_extra_keys=True))
_fast: dict[type[Any], Callable[[Any], Any]] = {}
_strict_mode = False


def set_strict(strict: bool) -> None:
    """Forbid unknown keys and cross-check the fast path (for this project's tests)."""
    global _strict_mode
    _strict_mode = strict


def structure(data: Any, cls: type[T]) -> T:
    """Structure JSON *data* into *cls*, raising `StructureError` with a readable message."""
    fast = _fast.get(cls)
    if fast is None:
        fast = _fast[cls] = fast_structure_fn(cls, _lenient, UNIONS)
    if _strict_mode:
        return _cross_checked(fast, data, cls)
    try:
        result: T = fast(data)
    except (Mismatch, KeyError, TypeError, ValueError, AttributeError):
        return _structure_explained(_lenient, data, cls)
    return result


def _structure_explained(converter: cattrs.Converter, data: Any, cls: type[T]) -> T:
    try:
        return converter.structure(data, cls)
    except cattrs.ClassValidationError as exc:
        message = "; ".join(cattrs.transform_error(exc, path=cls.__name__))
        raise StructureError(message) from exc
    except Exception as exc:  # a non-dict where an object was expected, and the like
        raise StructureError(f"{cls.__name__}: {type(exc).__name__}: {exc}") from exc


def _cross_checked(fast: Callable[[Any], Any], data: Any, cls: type[T]) -> T:
    expected = _structure_explained(_strict, data, cls)
    try:
        result = fast(data)
    except (Mismatch, KeyError, TypeError, ValueError, AttributeError):
        return expected
    if result != expected:  # pragma: no cover - a bug in the fast path
        raise AssertionError(f"fast path gave {result!r}, cattrs gave {expected!r}")
    return expected


def unstructure(value: Any) -> Any:
    """Turn an attrs instance back into JSON-ready data."""
    return _lenient.unstructure(value)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large answer becomes objects.

    Decoding and structuring tens of thousands of objects triggers generational
    collections that walk every tracked object in the process, which cost more
    than the structuring itself on a 10,000-model list. JSON and attrs objects
    form no reference cycles, so nothing is lost by collecting later. A
    collector that was already off stays off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
