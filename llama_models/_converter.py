"""The cattrs converter that owns the wire format, in both directions.

Responses are structured by it, requests are unstructured by it, and nothing
else in the SDK knows how a class looks as JSON. It is a `cattrs.preconf`
converter (orjson's when orjson is installed, the stdlib json one otherwise)
with these hooks on top:

* Every `WireObject` class gets the hooks cattrs generates for it
  (`cattrs.gen`), wrapped to keep what the class cannot hold: keys a newer
  server sends that this SDK does not know, and keys sent with their default
  value. Fields left at a ``None`` or empty default are not written.
* The API's tagged unions (deltas, content items, stream events) go through
  `configure_tagged_union`, with the ``Unknown…`` classes as defaults: a tag
  this SDK does not know never breaks parsing.
* ``str``, ``int``, ``float`` and ``bool`` fields take only JSON of that kind
  (cattrs would turn ``null`` into ``"None"`` and ``"false"`` into ``True``);
  an ``int | float`` keeps the number it was sent.
* Classes whose JSON nests its fields under its tag
  (``{"type": "function", "function": {...}}``) are told apart by that tag.

Structuring runs cattrs' code without detailed validation; only a failure
pays for a second, detailed pass that words the error field by field.
"""

from __future__ import annotations

import contextlib
import copy
import typing
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.gen import (
    make_dict_structure_fn,
    make_dict_structure_fn_from_attrs,
    make_dict_unstructure_fn,
    override,
)
from cattrs.strategies import configure_tagged_union

from .types._wire import WireInfo, WireObject, tag_of, tags_of
from .types.chat import StreamEvent, TextDelta, ToolCallDelta, UnknownDelta, UnknownEvent
from .types.messages import (
    ImageContent,
    JsonSchemaFormat,
    TextContent,
    Tool,
    UnknownContent,
)

T = TypeVar("T")

__all__ = [
    "StructureError",
    "default_converter",
    "make_converter",
    "structure",
]

Codec = Literal["auto", "json", "orjson"]

# The key under which a structuring hook hands the generated code the WireInfo of an
# object. It is only added to a copy of an object that is unusual (unknown keys, or a
# default sent explicitly); a server that sent this very key would see it kept among the
# unknown ones. (cattrs before
# 26 writes the key into the generated source as it is: no control characters.)
_WIRE_KEY = "__llama_models_wire__"
_ABSENT = object()
_EMPTY: tuple[None, list[Any]] = (None, [])

# Deltas and content items are told apart by "type", stream events by "event_type".
_DELTAS = TextDelta | ToolCallDelta | UnknownDelta
_CONTENT_ITEMS = TextContent | UnknownContent
_EVENTS = StreamEvent | UnknownEvent
# A class whose JSON nests its fields under its tag: {"type": "image_url", "image_url": {...}}.
_NESTED_UNDER_TAG: tuple[type[Any], ...] = (ImageContent, JsonSchemaFormat, Tool)


class StructureError(ValueError):
    """JSON that does not fit the expected class.

    Attributes:
        errors: each failing place, such as
            ``"invalid value for type, expected int @ Invoice.total"``.
    """

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


def make_converter(*, strict: bool = False, codec: Codec = "auto") -> cattrs.Converter:
    """A new converter for the Llama API's JSON, with its own hooks.

    Register hooks for your own types on it, or copy it first
    (``converter.copy()``) to keep the SDK's default untouched.

    Args:
        strict: refuse JSON with keys the classes do not know, instead of
            keeping them (this project's tests use it to catch drift).
        codec: ``"orjson"`` or ``"json"`` (the standard library) for
            `loads` and `dumps`; ``"auto"`` takes orjson when it is installed.
    """
    if codec == "auto":
        codec = "orjson" if _orjson_installed() else "json"
    # Unknown keys are refused by the hooks here (cattrs' forbid_extra_keys would make
    # configure_tagged_union drop the tag before an Unknown… class could keep it).
    options: dict[str, Any] = {
        "detailed_validation": False,
        "unstruct_collection_overrides": {Sequence: list, tuple: list},
    }
    if codec == "orjson":
        if not _orjson_installed():
            raise ImportError(
                "codec='orjson' needs orjson: pip install 'llama-models-client[fast]'"
            )
        from cattrs.preconf.orjson import make_converter as make
    elif codec == "json":
        from cattrs.preconf.json import make_converter as make  # type: ignore[assignment]
    else:
        raise ValueError(f"codec must be 'auto', 'json' or 'orjson', not {codec!r}")
    converter = make(**options)
    _configure(converter, strict=strict)
    return converter


_DEFAULT: list[cattrs.Converter] = []


def default_converter() -> cattrs.Converter:
    """The converter the clients use unless given another (``llama_models.converter``)."""
    if not _DEFAULT:
        _DEFAULT.append(make_converter())
    return _DEFAULT[0]


def _uses_orjson(converter: cattrs.Converter) -> bool:
    """Whether *converter* is cattrs' orjson converter (never true without orjson installed)."""
    if not _orjson_installed():
        return False
    from cattrs.preconf.orjson import OrjsonConverter  # imports orjson

    return isinstance(converter, OrjsonConverter)


def _orjson_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("orjson") is not None


def json_loads(converter: cattrs.Converter) -> Callable[[bytes], Any]:
    """The decoder of *converter*'s codec for a response body (UTF-8, maybe with a BOM)."""
    if _uses_orjson(converter):
        import orjson

        decode = orjson.loads

        def loads(raw: bytes) -> Any:
            if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, which orjson refuses
                raw = raw[3:]
            return decode(raw)

        return loads
    from ._protocol import decode_json

    return decode_json


def json_loads_text(converter: cattrs.Converter) -> Callable[[str], Any]:
    """The decoder of *converter*'s codec for JSON text: a stream event, a model's reply.

    The codec's own function, with nothing around it: it runs once per stream chunk.
    """
    if _uses_orjson(converter):
        import orjson

        return orjson.loads
    import json

    return json.JSONDecoder().decode


def json_dumps(converter: cattrs.Converter) -> Callable[[Any], bytes]:
    """The compact JSON encoder of *converter*'s codec, to UTF-8 bytes."""
    if _uses_orjson(converter):
        import orjson

        return orjson.dumps
    import json

    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    return lambda value: encode(value).encode()


# -- structuring with a readable error -----------------------------------------------------

_DETAILED: weakref.WeakKeyDictionary[cattrs.Converter, cattrs.Converter] = (
    weakref.WeakKeyDictionary()
)


def structure(converter: cattrs.Converter, data: Any, cls: type[T]) -> T:
    """Structure *data* as *cls*, raising `StructureError` that names every failing field."""
    try:
        return converter.structure(data, cls)
    except Exception as fast_error:
        detailed = _DETAILED.get(converter)
        if detailed is None:
            detailed = _DETAILED[converter] = converter.copy(detailed_validation=True)
        try:
            detailed.structure(data, cls)
        except (cattrs.ClassValidationError, cattrs.IterableValidationError) as exc:
            errors = cattrs.transform_error(exc, path=getattr(cls, "__name__", str(cls)))
            raise StructureError("; ".join(errors), errors) from exc
        except Exception as exc:  # a non-dict where an object was expected, and the like
            raise StructureError(
                f"{getattr(cls, '__name__', cls)}: {type(exc).__name__}: {exc}"
            ) from exc
        raise StructureError(f"{getattr(cls, '__name__', cls)}: {fast_error}") from fast_error


# -- the hooks -----------------------------------------------------------------------------


def _configure(converter: cattrs.Converter, *, strict: bool) -> None:
    for kind in (str, int, bool):
        converter.register_structure_hook(kind, _exactly(kind))
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook_func(_is_number, _structure_number)
    converter.register_structure_hook_factory(
        _is_wire_class, lambda cls, made_by: _wire_structure(cls, made_by, strict=strict)
    )
    converter.register_unstructure_hook_factory(_is_wire_class, _wire_unstructure)
    # Registered later, so they take precedence for these WireObject classes.
    converter.register_structure_hook_factory(_is_unknown, _unknown_structure)
    converter.register_unstructure_hook_factory(_is_unknown, lambda _: _unknown_unstructure)
    for union, default in ((_DELTAS, UnknownDelta), (_CONTENT_ITEMS, UnknownContent)):
        configure_tagged_union(
            union, converter, tag_generator=_member_tag, tag_name="type", default=default
        )
        # The members write their own tag (an unknown one included).
        converter.register_unstructure_hook(union, converter.unstructure)
    # A JSON object field: copied, so that to_dict() never hands out the object's own
    # dicts; anything else is left for the request checks to name.
    converter.register_unstructure_hook_func(_is_json_object, _unstructure_json_object)
    converter.register_structure_hook(_EVENTS, _event_structure(converter))
    converter.register_unstructure_hook(_EVENTS, converter.unstructure)
    content = converter.get_structure_hook(_CONTENT_ITEMS)

    def structure_content(value: Any, _: Any) -> Any:
        # An assistant's content: text, one content item, or nothing.
        if value is None or value.__class__ is str:
            return value
        return content(value, _CONTENT_ITEMS)

    converter.register_structure_hook(str | TextContent | UnknownContent | None, structure_content)
    converter.register_unstructure_hook(
        str | TextContent | UnknownContent | None, converter.unstructure
    )


def _is_json_object(tp: Any) -> bool:
    return typing.get_origin(tp) in (Mapping, dict) and typing.get_args(tp)[1:] == (Any,)


def _unstructure_json_object(value: Any) -> Any:
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value


def _member_tag(cls: type[Any]) -> Any:
    # An Unknown… class has no tag of its own: it takes every tag the others do not.
    return None if _is_unknown(cls) else tag_of(cls)


def _exactly(kind: type[T]) -> Callable[[Any, Any], T]:
    def structure(value: Any, _: Any) -> T:
        if value.__class__ is kind:
            return value
        raise TypeError(f"expected {_JSON_NAMES[kind]}, got {_json_name(value)}")

    return structure


def _structure_float(value: Any, _: Any) -> float:
    if value.__class__ is float:
        return value
    if value.__class__ is int:
        return float(value)
    raise TypeError(f"expected a number, got {_json_name(value)}")


_NUMBER = frozenset({int, float})


def _is_number(tp: Any) -> bool:
    """``int | float``, optionally ``| None``: a JSON number kept as the int or float it is."""
    args = typing.get_args(tp)
    return bool(args) and frozenset(args) - {type(None)} == _NUMBER


def _structure_number(value: Any, tp: Any) -> int | float | None:
    if value.__class__ is int or value.__class__ is float:
        return value
    if value is None and type(None) in typing.get_args(tp):
        return None
    raise TypeError(f"expected a number, got {_json_name(value)}")


_JSON_NAMES: Mapping[type[Any], str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _json_name(value: Any) -> str:
    return _JSON_NAMES.get(value.__class__, type(value).__name__)


def _is_wire_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, WireObject) and attrs.has(tp)


def _is_unknown(tp: Any) -> bool:
    return tp in (UnknownDelta, UnknownContent, UnknownEvent)


def _unknown_structure(cls: type[Any]) -> Callable[[Any, Any], Any]:
    """An object of a tag this SDK does not know: its tag, and all of it as received."""
    key = attrs.fields(cls)[1].name  # the first field after _wire: "type" or "event_type"

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is not dict:
            raise TypeError(f"expected an object, got {_json_name(value)}")
        return cls(**{key: str(value.get(key, "")), "data": value})

    return structure


def _unknown_unstructure(value: Any) -> Any:
    return copy.deepcopy(dict(value.data))


def _event_structure(converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Stream events: one class for the four event types, `UnknownEvent` for the rest."""
    known = frozenset(tags_of(StreamEvent, "event_type"))
    event = converter.get_structure_hook(StreamEvent)
    unknown = converter.get_structure_hook(UnknownEvent)

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is dict and value.get("event_type") in known:
            return event(value, StreamEvent)
        return unknown(value, UnknownEvent)

    return structure


def _defaults_left_out(cls: type[Any]) -> tuple[str, ...]:
    """The fields that are not written while they hold their ``None`` or empty default."""
    return tuple(
        a.name
        for a in attrs.fields(cls)
        if a.name != "_wire" and (a.default is None or a.default == ())
    )


def _wire_structure(
    cls: type[Any], converter: cattrs.Converter, *, strict: bool
) -> Callable[[Any, Any], Any]:
    generated = make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=converter.detailed_validation,
        _wire=override(rename=_WIRE_KEY, struct_hook=lambda value, _: value),
    )
    known = frozenset(a.name for a in attrs.fields(cls) if a.name != "_wire")
    omitted = _defaults_left_out(cls)
    nested = cls in _NESTED_UNDER_TAG
    tag = tag_of(cls) if nested else None

    def unusual(value: dict[str, Any]) -> Any:
        """The slow path: keys the class does not know, or defaults sent explicitly."""
        extra = {key: item for key, item in value.items() if key not in known}
        if extra and strict:
            raise ForbiddenExtraKeysError(
                f"{cls.__name__} does not know {sorted(extra)}", cls, set(extra)
            )
        kept = {key: value[key] for key in omitted if value.get(key, _ABSENT) in _EMPTY}
        return generated({**value, _WIRE_KEY: WireInfo(extra, kept)}, cls)

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is not dict:
            raise TypeError(f"expected an object, got {_json_name(value)}")
        if nested:
            inner = value.get(tag)
            if inner.__class__ is not dict or value.get("type") != tag:
                raise TypeError(f"expected {{'type': {tag!r}, {tag!r}: {{...}}}}")
            value = {**inner, "type": tag}
        if value.keys() <= known:
            for key in omitted:
                if value.get(key, _ABSENT) in _EMPTY:
                    return unusual(value)
            return generated(value, cls)
        return unusual(value)

    if nested:
        return structure
    exact = _exact_structure(cls, converter)

    def common(value: Any, _: Any) -> Any:
        if value.__class__ is dict and value.keys() <= known:
            with contextlib.suppress(Exception):  # anything unusual: the hook above sorts it out
                return exact(value, cls)
        return structure(value, cls)

    return common


def _exact_structure(cls: type[Any], converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """cattrs' generated hook for JSON exactly as the API sends it, raising on anything else.

    Every field without a ``None`` or empty default is required (the API sends it),
    so cattrs calls the class without a keyword dict; unknown keys, missing keys
    and ``None``/``[]`` sent for a field that defaults to it raise.
    """
    fields = []
    overrides: dict[str, Any] = {"_wire": override(omit=True)}
    optional_seen = False
    for a in attrs.fields(attrs.resolve_types(cls)):
        if a.name == "_wire":
            continue
        if a.default is None or a.default == ():
            optional_seen = True
            overrides[a.name] = override(struct_hook=_not_empty(converter, a.type))
            fields.append(a)
        else:
            fields.append(a.evolve(default=attrs.NOTHING, kw_only=a.kw_only or optional_seen))
    return make_dict_structure_fn_from_attrs(
        fields,
        cls,
        converter,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=False,
        **overrides,
    )


def _not_empty(converter: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """The hook of an optional field's type without None, refusing its empty default."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    inner_type: Any = tp
    if type(None) in typing.get_args(tp):
        inner_type = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    if inner_type in (str, int, bool, float):
        kind = inner_type

        def exact(value: Any, _: Any) -> Any:
            if value.__class__ is kind:
                return value
            raise TypeError("not exactly")

        return exact
    inner = converter.get_structure_hook(inner_type)

    def structure(value: Any, _: Any) -> Any:
        if value is None or value == []:
            raise TypeError("an explicit default")
        return inner(value, inner_type)

    return structure


def _wire_unstructure(cls: type[Any], converter: cattrs.Converter) -> Callable[[Any], Any]:
    overrides: dict[str, Any] = {
        name: override(omit_if_default=True) for name in _defaults_left_out(cls)
    }
    for a in attrs.fields(cls):
        if a.metadata.get("llama_models.wire", True) is False:
            overrides[a.name] = override(omit=True)
    generated = make_dict_unstructure_fn(cls, converter, _wire=override(omit=True), **overrides)
    tag = tag_of(cls) if cls in _NESTED_UNDER_TAG else None

    def unstructure(value: Any) -> dict[str, Any]:
        data: dict[str, Any] = generated(value)
        wire = value._wire
        if wire is not None:
            data.update(copy.deepcopy(dict(wire.kept)))
            data.update(copy.deepcopy(dict(wire.extra)))
        if tag is not None:
            del data["type"]
            return {"type": tag, tag: data}
        return data

    return unstructure
