"""The base of every class that mirrors a JSON object of the API.

A response object remembers what its class does not say: the keys of a newer
server that this version of the SDK does not know, and the keys the server
sent with a value that equals their default (``"tool_calls": []``), which an
object built in Python leaves out. So `to_dict` gives back exactly the JSON
the server sent, and an answer sent back as a request loses nothing.

That memory lives in one field, `_wire`, that takes no part in comparisons,
hashing or ``repr``: two answers that differ only in unknown keys are equal.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping
from typing import Any, Literal

from attrs import field, frozen

__all__ = ["NOT_ON_THE_WIRE", "WireInfo", "WireObject", "tag_of", "tags_of"]

#: The metadata of a field the SDK adds to an answer, which is no part of its JSON.
NOT_ON_THE_WIRE: Mapping[str, Any] = {"llama_models.wire": False}

_NO_KEYS: Mapping[str, Any] = {}


@frozen
class WireInfo:
    """What a structured object's class cannot hold.

    Attributes:
        extra: the keys the class does not know, with their values as received.
        kept: the keys sent with their default value, with that value as received
            (``None`` or an empty list).
    """

    extra: Mapping[str, Any]
    kept: Mapping[str, Any]


@frozen
class WireObject:
    """A JSON object of the API; see the module docstring."""

    # Its init parameter keeps the underscore: no one builds an object with it but the converter.
    _wire: WireInfo | None = field(default=None, kw_only=True, eq=False, repr=False, alias="_wire")

    @property
    def extra_fields(self) -> Mapping[str, Any]:
        """The keys the server sent that this version of the SDK does not know, as sent.

        Empty for an object built in Python, and for one that the server sent
        with no key its class does not have.
        """
        wire = self._wire
        return copy.deepcopy(wire.extra) if wire is not None else _NO_KEYS

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this is, as a new dict: exactly what the server sent, if it did.

        Unknown keys are included. For an object built in Python, fields left at
        a ``None`` or empty default are not included (the API reads a missing
        key as that default).
        """
        from .._converter import default_converter

        data: dict[str, Any] = default_converter().unstructure(self)
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """`to_dict` as JSON text, non-ASCII characters kept as they are."""
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def tags_of(cls: type[Any], key: str) -> tuple[Any, ...]:
    """The values the field *key* of *cls* may take, read from its ``Literal`` type."""
    hint = typing.get_type_hints(cls)[key]
    if typing.get_origin(hint) is not Literal:
        raise TypeError(f"{cls.__name__}.{key} is not a Literal")
    return typing.get_args(hint)


def tag_of(cls: type[Any], key: str = "type") -> Any:
    """The one value the tag field *key* of *cls* takes."""
    (tag,) = tags_of(cls, key)
    return tag
