"""Generated structuring functions for the common case: JSON that matches exactly.

cattrs' generated code (even without detailed validation) calls a hook per field
and builds a keyword dict per object, which dominates decoding a 10,000-model
list. The functions generated here read each key once, check primitive types
exactly (``type(v) is str``), and call the class positionally. Anything they do
not expect raises `Mismatch`, and the caller then falls back to cattrs, which
is lenient where cattrs is lenient and explains real errors; so this is purely
a fast path and never changes what structures or what it structures into.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

import attrs
import cattrs

__all__ = ["Mismatch", "NUMBER", "Tagged", "fast_structure_fn", "union_key"]

_PRIMITIVES = (str, int, float, bool)
NUMBER = frozenset({int, float})
"""The `union_key` of ``int | float``: a JSON number, kept as the int or float it decodes to."""
_SEQUENCES = (collections.abc.Sequence, tuple, list)


class Mismatch(Exception):
    """The data is not in the exact expected form; use the general path."""


def _mismatch() -> None:
    raise Mismatch


@attrs.frozen
class Tagged:
    """A union of attrs classes told apart by one key, with a fallback for new tags.

    Attributes:
        key: the tag key, such as ``"type"``.
        members: the class for each known tag value.
        unknown: builds the value for a tag not in *members* from the whole object.
        allow_str: a bare ``str`` is also a member (content that is text or an item).
    """

    key: str
    members: typing.Mapping[str, type[Any]]
    unknown: Callable[[dict[str, Any]], Any]
    allow_str: bool = False


def union_key(tp: Any) -> frozenset[Any] | None:
    """The members of a union type without ``None``, as a lookup key; ``None`` if not a union."""
    if typing.get_origin(tp) not in (Union, types.UnionType):
        return None
    return frozenset(arg for arg in typing.get_args(tp) if arg is not type(None))


_Unions = typing.Mapping[frozenset[Any], Tagged]
_Cache = dict[type[Any], Callable[[Any], Any]]


def fast_structure_fn(
    cls: type[Any], fallback: cattrs.Converter, unions: _Unions | None = None
) -> Callable[[Any], Any]:
    """Generate ``structure(data) -> cls`` for an attrs class, raising `Mismatch` when unsure.

    Tagged unions listed in *unions* dispatch on their tag to generated functions
    of their members. Field types the generator does not know (other unions,
    mappings, ``Any``) are handed to *fallback*'s own hook for that type.
    """
    cache: _Cache = {}
    return _generate(cls, fallback, cache, unions or {})


def _generate(
    cls: type[Any], fallback: cattrs.Converter, cache: _Cache, unions: _Unions
) -> Callable[[Any], Any]:
    if cls in cache:
        return cache[cls]
    hints = typing.get_type_hints(cls)
    namespace: dict[str, Any] = {"cls": cls, "mismatch": _mismatch, "dict": dict}
    lines = ["def structure(o):", "    if o.__class__ is not dict: mismatch()"]
    args = []
    for index, field in enumerate(attrs.fields(cls)):
        if not field.init or isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{cls.__name__}.{field.name}: no fast path for this field")
        var = f"v{index}"
        key = field.alias or field.name
        if field.default is attrs.NOTHING:
            lines.append(f"    {var} = o[{key!r}]")
        else:
            namespace[f"d{index}"] = field.default
            lines.append(f"    {var} = o.get({key!r}, d{index})")
            lines.append(f"    if {var} is not d{index}:")
        indent = "    " if field.default is attrs.NOTHING else "        "
        lines += [
            indent + line
            for line in _check(var, hints[field.name], index, namespace, fallback, cache, unions)
        ]
        args.append(f"{field.name}={var}" if field.kw_only else var)
    if _can_skip_init(cls):
        # Setting the slots through their descriptors is a third faster than attrs'
        # frozen __init__ (which goes through object.__setattr__ per field), and
        # does exactly the same for a class with no validators, converters or hooks.
        namespace["new"] = object.__new__
        lines.append("    obj = new(cls)")
        for index, field in enumerate(attrs.fields(cls)):
            namespace[f"set{index}"] = cls.__dict__[field.name].__set__
            lines.append(f"    set{index}(obj, v{index})")
        lines.append("    return obj")
    else:
        lines.append(f"    return cls({', '.join(args)})")
    exec(compile("\n".join(lines), f"<fast structure {cls.__name__}>", "exec"), namespace)  # noqa: S102
    function: Callable[[Any], Any] = namespace["structure"]
    cache[cls] = function
    return function


def _can_skip_init(cls: type[Any]) -> bool:
    """Whether building *cls* by setting its slots is the same as calling it."""
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__attrs_post_init__"):
        return False
    if hasattr(cls, "__attrs_pre_init__"):
        return False
    return all(
        field.validator is None and field.converter is None and field.on_setattr is None
        for field in attrs.fields(cls)
    )


def _check(
    var: str,
    tp: Any,
    index: int,
    namespace: dict[str, Any],
    fallback: cattrs.Converter,
    cache: _Cache,
    unions: _Unions,
) -> list[str]:
    """Code lines that validate (and convert) ``var`` in place as type *tp*."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    key = union_key(tp)
    if key is not None and key in unions:
        namespace[f"u{index}"] = _dispatch_fn(unions[key], fallback, cache, unions)
        body = [f"{var} = u{index}({var})"]
        if type(None) in args:
            return [f"if {var} is not None:", "    " + body[0]]
        return body
    if key == NUMBER:
        body = [f"if {var}.__class__ is not int and {var}.__class__ is not float: mismatch()"]
        return [f"if {var} is not None:", "    " + body[0]] if type(None) in args else body
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        inner = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        body = _check(var, inner, index, namespace, fallback, cache, unions)
        return [f"if {var} is not None:", *("    " + line for line in body)] if body else []
    if origin is Literal:
        namespace[f"l{index}"] = frozenset(args)
        return [f"if {var}.__class__ is not str or {var} not in l{index}: mismatch()"]
    if tp is float:
        return [
            f"if {var}.__class__ is int: {var} = float({var})",
            f"elif {var}.__class__ is not float: mismatch()",
        ]
    if tp in _PRIMITIVES:
        namespace[f"t{index}"] = tp
        return [f"if {var}.__class__ is not t{index}: mismatch()"]
    if origin in _SEQUENCES and args and (origin is not tuple or args[-1] is Ellipsis):
        namespace[f"e{index}"] = _element_fn(args[0], fallback, cache, unions)
        return [
            f"if {var}.__class__ is not list: mismatch()",
            f"{var} = tuple(map(e{index}, {var}))",
        ]
    if attrs.has(tp):
        namespace[f"s{index}"] = _generate(tp, fallback, cache, unions)
        return [f"{var} = s{index}({var})"]
    hook = fallback.get_structure_hook(tp)
    namespace[f"h{index}"], namespace[f"ht{index}"] = hook, tp
    return [f"{var} = h{index}({var}, ht{index})"]


def _dispatch_fn(
    tagged: Tagged, fallback: cattrs.Converter, cache: _Cache, unions: _Unions
) -> Callable[[Any], Any]:
    """Structure a member of a tagged union by its tag; new tags become the unknown class."""
    members: dict[Any, Callable[[Any], Any]] = {
        tag: _generate(member, fallback, cache, unions) for tag, member in tagged.members.items()
    }
    key, unknown, allow_str = tagged.key, tagged.unknown, tagged.allow_str

    def dispatch(value: Any) -> Any:
        if value.__class__ is dict:
            structure = members.get(value.get(key))
            return unknown(value) if structure is None else structure(value)
        if allow_str and value.__class__ is str:
            return value
        raise Mismatch

    return dispatch


def _element_fn(
    tp: Any, fallback: cattrs.Converter, cache: _Cache, unions: _Unions
) -> Callable[[Any], Any]:
    if attrs.has(tp):
        return _generate(tp, fallback, cache, unions)
    if tp in _PRIMITIVES and tp is not float:

        def check(value: Any) -> Any:
            if value.__class__ is not tp:
                raise Mismatch
            return value

        return check
    hook = fallback.get_structure_hook(tp)
    return lambda value: hook(value, tp)
