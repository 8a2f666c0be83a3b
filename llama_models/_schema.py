"""JSON Schemas derived from attrs classes, dataclasses and function signatures.

`json_schema` walks a class with `attrs.fields` or `dataclasses.fields` and
`typing.get_type_hints`; `parameters_class` turns a function's signature into an attrs
class, so that a tool's arguments get a schema the same way and come back through cattrs.

The schemas are shaped for the Llama API, which has rejected a tool parameter with
``oneOf`` but no ``type`` (wire reference, §10, after any-llm's workaround). So every
schema here has a ``type``: nested classes are inlined instead of ``$ref``-erenced (a
recursive class is refused), an optional value is its schema with ``"null"`` added to
its ``type`` (and to its ``enum``), and a union of several kinds lists them in ``type``
beside its ``anyOf``. Objects forbid unknown keys, and a field is required exactly when
it has no default, so ``T | None`` without a default must be sent, maybe as ``null``.

Descriptions come from, first to last: a field's ``metadata={"description": ...}``, a
string in ``Annotated[T, "..."]``, and the class docstring (its ``Attributes`` section,
``:ivar:`` fields or the like; see `llama_models._docstrings`).

Errors name the place in the class by a path: ``Invoice.lines[].amount`` is a field of
the items of a list, ``Invoice.totals{}`` the values of a mapping, ``Invoice.span[0]``
the first item of a fixed tuple.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import math
import re
import types
import typing
import uuid
from collections.abc import (
    Callable,
    Iterable,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Sequence,
)
from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

import attrs

from ._docstrings import parse_docstring

__all__ = ["function_description", "json_schema", "parameters_class", "schema_name"]

_SCALARS: Mapping[Any, Mapping[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}
_SCALAR_KINDS = frozenset({"string", "integer", "number", "boolean"})
_SEQUENCES = (list, Sequence, MutableSequence)
_SETS = (set, frozenset, AbstractSet, MutableSet)
_MAPPINGS = (dict, Mapping, MutableMapping)
_HINTS: Mapping[str, str] = {
    "bytes": "JSON has no bytes; use str (base64 text, say)",
    "decimal.Decimal": "use float, or str to keep every digit",
    "typing.Any": "it has no JSON type, and the Llama API needs one; use a concrete type",
}
_SUPPORTED = (
    "supported are str, int, float, bool, None, Literal, Enum, datetime, date, time, UUID,"
    " list, Sequence, tuple, set, dict[str, ...], unions, Annotated,"
    " and attrs classes or dataclasses"
)


class _NoDefault(enum.Enum):
    NO_DEFAULT = enum.auto()


_NO_DEFAULT = _NoDefault.NO_DEFAULT
# attrs types Factory as a function returning the default, for the sake of annotations.
_FACTORY: type = attrs.Factory  # type: ignore[assignment]


class _Field(NamedTuple):
    name: str
    type: Any
    required: bool
    default: Any  # _NO_DEFAULT for required fields and factories
    description: str | None


def json_schema(tp: type) -> dict[str, Any]:
    """Return the JSON Schema of the attrs class or dataclass *tp*.

    The schema is an object schema (draft 2020-12) with every nested class inlined, built
    anew on each call: changing it changes nothing else. Give it to
    ``response_format`` or, through `parameters_class`, to a tool's ``parameters``.

    Raises:
        TypeError: *tp* is not an attrs class or a dataclass, is recursive, or has a
            field of a type JSON Schema cannot express; the message names the field.
    """
    if not _is_record(tp):
        raise TypeError(f"json_schema() takes an attrs class or a dataclass, not {_type_name(tp)}")
    return _object_schema(tp, tp.__name__, ())


def parameters_class(fn: Callable[..., Any]) -> type:
    """Return a frozen attrs class with one field per parameter of *fn*.

    The class is named after *fn*; its fields keep the order, annotations and defaults of
    the parameters, and their ``metadata["description"]`` comes from *fn*'s docstring
    (``Args:``, ``Parameters`` or ``:param:``). ``json_schema(parameters_class(fn))`` is
    the tool's ``parameters`` schema, and a stock `cattrs.Converter` structures the
    arguments the model sends into an instance, whose fields are ready to be passed to
    *fn* by keyword. Pass a function or a bound method.

    Raises:
        TypeError: a parameter is positional-only, ``*args`` or ``**kwargs``, has no
            annotation, or an annotation cannot be resolved.
    """
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"parameters_class() takes a function, not {fn!r}")
    label = getattr(fn, "__qualname__", name)
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise TypeError(f"cannot resolve the annotations of {label}(): {exc}") from exc
    docs = parse_docstring(inspect.getdoc(fn)).fields
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(
                f"{label}() has the positional-only parameter {param.name!r}; tool arguments"
                " arrive by name, so make it a regular or keyword-only parameter"
            )
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise TypeError(
                f"{label}() takes {star}{param.name}; a JSON Schema lists named parameters only"
            )
        if param.name not in hints:
            raise TypeError(
                f"the parameter {param.name!r} of {label}() has no annotation;"
                " its schema needs a type"
            )
        description = docs.get(param.name)
        fields[param.name] = attrs.field(
            type=hints[param.name],
            default=attrs.NOTHING if param.default is param.empty else param.default,
            metadata={"description": description} if description else {},
        )
    # Keyword-only: a parameter without a default may follow one with a default.
    cls = attrs.make_class(name, fields, frozen=True, slots=True, kw_only=True)
    cls.__module__ = getattr(fn, "__module__", None) or cls.__module__
    cls.__qualname__ = label
    return cls


def function_description(fn: Callable[..., Any]) -> str | None:
    """Return the description part of *fn*'s docstring, or ``None`` without one.

    That is the text before the first section such as ``Args:``, as a tool's
    ``description``.
    """
    return parse_docstring(inspect.getdoc(fn)).description


def schema_name(tp_or_fn: type | Callable[..., Any]) -> str:
    """Return the ``__name__`` of a class or function, as a tool or schema name.

    The Llama API takes names of at most 64 letters, digits, ``_`` and ``-``: other
    characters become ``_`` and the name is cut at 64.

    Raises:
        TypeError: the object has no ``__name__``.
        ValueError: the name is empty.
    """
    name = getattr(tp_or_fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"{tp_or_fn!r} has no __name__")
    if not name:
        raise ValueError(f"{tp_or_fn!r} has an empty __name__")
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]


def _is_record(tp: object) -> bool:
    return isinstance(tp, type) and (attrs.has(tp) or dataclasses.is_dataclass(tp))


def _type_name(tp: object) -> str:
    if isinstance(tp, type):
        if tp.__module__ == "builtins":
            return tp.__qualname__
        return f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp)


def _unsupported(path: str, tp: object, reason: str | None = None) -> TypeError:
    name = _type_name(tp)
    return TypeError(
        f"cannot derive a JSON Schema for {path}: {name} is not supported;"
        f" {reason or _HINTS.get(name) or _SUPPORTED}"
    )


def _fields(cls: type) -> list[_Field]:
    """Return the fields of *cls* that its ``__init__`` takes, with resolved types."""
    try:
        if attrs.has(cls):
            return [_attrs_field(a) for a in attrs.fields(attrs.resolve_types(cls)) if a.init]
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise TypeError(f"cannot resolve the annotations of {cls.__qualname__}: {exc}") from exc
    result = []
    for f in dataclasses.fields(cls):
        if f.init:
            required = f.default is f.default_factory is dataclasses.MISSING
            default = _NO_DEFAULT if f.default is dataclasses.MISSING else f.default
            text = _text(f.metadata.get("description"))
            result.append(_Field(f.name, hints.get(f.name, f.type), required, default, text))
    return result


def _attrs_field(a: attrs.Attribute[Any]) -> _Field:
    if a.default is attrs.NOTHING:
        return _Field(a.name, a.type, True, _NO_DEFAULT, _text(a.metadata.get("description")))
    default = _NO_DEFAULT if isinstance(a.default, _FACTORY) else a.default
    return _Field(a.name, a.type, False, default, _text(a.metadata.get("description")))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _class_docs(cls: type) -> tuple[str | None, dict[str, str]]:
    """Return the description of *cls* and the field notes of it and its bases."""
    description = None
    notes: dict[str, str] = {}
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__")
        if not _is_record(klass) or not isinstance(doc, str) or _is_synthesized_doc(klass, doc):
            continue
        parsed = parse_docstring(doc)
        if klass is cls:
            description = parsed.description
        for name, text in parsed.fields.items():
            notes.setdefault(name, text)
    return description, notes


def _is_synthesized_doc(cls: type, doc: str) -> bool:
    """Tell whether *doc* is the signature that `dataclasses` writes in a bare class."""
    if not dataclasses.is_dataclass(cls) or not doc.startswith(f"{cls.__name__}("):
        return False
    try:
        return doc == cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    except (TypeError, ValueError):  # pragma: no cover - a signature dataclasses made
        return False


def _object_schema(cls: type, path: str, stack: tuple[type, ...]) -> dict[str, Any]:
    if cls in stack:
        chain = " -> ".join(c.__qualname__ for c in (*stack[stack.index(cls) :], cls))
        raise TypeError(
            f"cannot derive a JSON Schema for {path}: {cls.__qualname__} is recursive"
            f" ({chain}); a recursive class cannot be inlined, and the $ref it would need"
            " has no type, which the Llama API rejects"
        )
    stack = (*stack, cls)
    description, notes = _class_docs(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in _fields(cls):
        schema = _schema(field.type, f"{path}.{field.name}", stack)
        text = field.description or _annotated_description(field.type) or notes.get(field.name)
        if text:
            schema["description"] = text
        if field.required:
            required.append(field.name)
        elif (default := _json_value(field.default)) is not _NO_DEFAULT:
            schema["default"] = default
        properties[field.name] = schema
    result: dict[str, Any] = {"type": "object"}
    if description:
        result["description"] = description
    result.update(properties=properties, required=required, additionalProperties=False)
    return result


def _annotated_description(tp: Any) -> str | None:
    if typing.get_origin(tp) is typing.Annotated:
        return next((item for item in tp.__metadata__ if isinstance(item, str)), None)
    return None


def _json_value(value: Any) -> Any:
    """Return *value* as JSON if it is a scalar (or an Enum member of one), else _NO_DEFAULT."""
    if value is _NO_DEFAULT:
        return value
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float and math.isfinite(value):
        return value
    return _NO_DEFAULT


def _json_type(value: Any) -> str | None:
    if value is None:
        return "null"
    if type(value) in (bool, int, str, float) and _json_value(value) is not _NO_DEFAULT:
        return {bool: "boolean", int: "integer", str: "string", float: "number"}[type(value)]
    return None


def _one_or_many(kinds: Iterable[str]) -> str | list[str]:
    unique = list(dict.fromkeys(kinds))
    return unique[0] if len(unique) == 1 else unique


def _kinds(schema: Mapping[str, Any]) -> list[str]:
    kind = schema["type"]
    return [kind] if isinstance(kind, str) else list(kind)


def _schema(tp: Any, path: str, stack: tuple[type, ...]) -> dict[str, Any]:
    """Return the schema of the annotation *tp*, found at *path*."""
    if isinstance(tp, typing.NewType):
        return _schema(tp.__supertype__, path, stack)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        schema = _schema(args[0], path, stack)
        description = _annotated_description(tp)
        if description:
            schema["description"] = description
        return schema
    if tp is None or tp is types.NoneType:
        return {"type": "null"}
    if origin is typing.Union or origin is types.UnionType:
        return _union_schema(args, path, stack)
    if origin is typing.Literal:
        values = [arg.value if isinstance(arg, enum.Enum) else arg for arg in args]
        return _enum_schema(values, path, tp)
    if isinstance(tp, type):
        if tp in _SCALARS:
            return dict(_SCALARS[tp])
        if issubclass(tp, enum.Enum):
            return _enum_schema([member.value for member in tp], path, tp)
        if _is_record(tp):
            return _object_schema(tp, path, stack)
    # A bare typing.Tuple has no arguments either, like tuple[()], but says nothing.
    if origin is tuple and tp is not typing.Tuple:  # noqa: UP006
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema(args[0], f"{path}[]", stack)}
        if args in ((), ((),)):  # tuple[()]
            return {"type": "array", "maxItems": 0}
        items = [_schema(arg, f"{path}[{i}]", stack) for i, arg in enumerate(args)]
        return {"type": "array", "prefixItems": items, "minItems": len(args), "maxItems": len(args)}
    if args and origin in _SEQUENCES:
        return {"type": "array", "items": _schema(args[0], f"{path}[]", stack)}
    if args and origin in _SETS:
        return {"type": "array", "items": _schema(args[0], f"{path}[]", stack), "uniqueItems": True}
    if args and origin in _MAPPINGS:
        if args[0] is not str:
            raise _unsupported(path, tp, "JSON object keys are strings: use dict[str, ...]")
        return {"type": "object", "additionalProperties": _schema(args[1], f"{path}{{}}", stack)}
    if (origin or tp) in (*_SEQUENCES, *_SETS, *_MAPPINGS, tuple):
        raise _unsupported(path, tp, "say what it holds, as in list[str] or dict[str, int]")
    raise _unsupported(path, tp)


def _union_schema(args: tuple[Any, ...], path: str, stack: tuple[type, ...]) -> dict[str, Any]:
    nullable = types.NoneType in args
    branches = [_schema(arg, path, stack) for arg in args if arg is not types.NoneType]
    schema: dict[str, Any]
    if len(branches) == 1:
        schema = branches[0]
    elif all(_is_plain(branch) for branch in branches):
        schema = {"type": _one_or_many(branch["type"] for branch in branches)}
    else:
        kinds = (kind for branch in branches for kind in _kinds(branch))
        schema = {"type": _one_or_many(kinds), "anyOf": branches}
    if nullable and "null" not in _kinds(schema):
        schema["type"] = [*_kinds(schema), "null"]
        if "enum" in schema:
            schema["enum"].append(None)
        if "anyOf" in schema:
            schema["anyOf"].append({"type": "null"})
    return schema


def _is_plain(schema: Mapping[str, Any]) -> bool:
    """Tell whether *schema* is only a scalar ``type``, which a list of types can stand for."""
    return schema.keys() == {"type"} and schema["type"] in _SCALAR_KINDS


def _enum_schema(values: list[Any], path: str, tp: object) -> dict[str, Any]:
    if not values:
        raise _unsupported(path, tp, "it has no values")
    kinds = []
    for value in values:
        kind = _json_type(value)
        if kind is None:
            raise _unsupported(
                path, tp, f"its value {value!r} is not a JSON string, number, boolean or null"
            )
        kinds.append(kind)
    return {"type": _one_or_many(kinds), "enum": values}
