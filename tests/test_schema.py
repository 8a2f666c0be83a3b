"""JSON Schemas from attrs classes, dataclasses and functions, checked with ``jsonschema``.

Every schema a test builds goes through `check`: it must be a valid draft 2020-12 schema
in which every (sub)schema has a ``type`` (the Llama API rejects properties without one),
accept the valid examples and refuse the invalid ones.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import json
import subprocess
import sys
import typing
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, NewType, Optional, TypeVar, Union

import attrs
import cattrs
import jsonschema  # type: ignore[import-untyped]
import pytest

from llama_models._docstrings import Docstring, parse_docstring
from llama_models._schema import function_description, json_schema, parameters_class, schema_name

# -- helpers ----------------------------------------------------------------------------------


def subschemas(schema: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Yield the schemas directly inside *schema* (properties, items, branches ...)."""
    yield from schema.get("properties", {}).values()
    yield from schema.get("prefixItems", [])
    yield from schema.get("anyOf", [])
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            yield schema[key]


def assert_typed(schema: Mapping[str, Any], where: str = "#") -> None:
    """Every schema in the tree, properties first of all, has a ``type``."""
    assert "type" in schema, f"{where} has no type: {schema}"
    assert not {"$ref", "$defs", "oneOf"} & schema.keys(), where
    for i, inner in enumerate(subschemas(schema)):
        assert_typed(inner, f"{where}/{i}")


def check(
    schema: dict[str, Any], valid: Iterable[object] = (), invalid: Iterable[object] = ()
) -> dict[str, Any]:
    """Assert *schema* is a typed draft 2020-12 schema that sorts the examples right."""
    jsonschema.Draft202012Validator.check_schema(schema)
    assert_typed(schema)
    assert json.loads(json.dumps(schema)) == schema
    validator = jsonschema.Draft202012Validator(schema)
    for instance in valid:
        validator.validate(instance)
    for instance in invalid:
        assert not validator.is_valid(instance), instance
    return schema


def holder(tp: Any, **field: Any) -> type:
    """An attrs class named ``Holder`` with one field, ``value: tp``, required unless *field* says."""
    return attrs.make_class("Holder", {"value": attrs.field(type=tp, **field)})


def value_schema(tp: Any) -> dict[str, Any]:
    schema = check(json_schema(holder(tp)))
    assert schema["required"] == ["value"]
    return typing.cast("dict[str, Any]", schema["properties"]["value"])


# -- the classes under test -------------------------------------------------------------------


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Ratio(enum.Enum):
    HALF = 0.5
    ONE = 1


@attrs.frozen
class Address:
    """A postal address.

    Attributes:
        street: The street and number,
            on one line.
        city (str): The city.
    """

    street: str
    city: str
    country: str = "FR"


@attrs.frozen
class Line:
    """One line of an invoice.

    Parameters
    ----------
    sku : str
        The stock-keeping unit.
    quantity : int
        How many items,
        at least one.
    """

    sku: str
    quantity: int
    unit_price: float = attrs.field(metadata={"description": "The price of one item."})
    tags: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class Invoice:
    """An invoice sent to a customer.

    It is issued once and paid later.

    :ivar number: The invoice number.
    :param str currency: The currency
        of every amount.
    :cvar status: Where the invoice stands.
    :returns: ignored.
    """

    number: str
    issued: datetime.date
    due: datetime.datetime | None
    status: Literal["draft", "sent", "paid"] = "draft"
    currency: Currency = Currency.EUR
    priority: Priority | None = None
    billing: Address
    shipping: Address | None = None
    lines: Sequence[Line] = ()
    totals: dict[str, float] = attrs.field(factory=dict)
    span: tuple[datetime.date, datetime.date] | None = None
    notes: list[Annotated[str, "A free-form note."]] = attrs.field(factory=list)
    reference: uuid.UUID | int | None = None
    paid: bool = False
    discount: float = attrs.field(default=0.0, metadata={"description": "A discount in percent."})
    internal: str = attrs.field(default="", init=False)


ADDRESS = {
    "type": "object",
    "description": "A postal address.",
    "properties": {
        "street": {"type": "string", "description": "The street and number, on one line."},
        "city": {"type": "string", "description": "The city."},
        "country": {"type": "string", "default": "FR"},
    },
    "required": ["street", "city"],
    "additionalProperties": False,
}
LINE = {
    "type": "object",
    "description": "One line of an invoice.",
    "properties": {
        "sku": {"type": "string", "description": "The stock-keeping unit."},
        "quantity": {"type": "integer", "description": "How many items, at least one."},
        "unit_price": {"type": "number", "description": "The price of one item."},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
    "required": ["sku", "quantity", "unit_price"],
    "additionalProperties": False,
}
DATE = {"type": "string", "format": "date"}
INVOICE = {
    "type": "object",
    "description": "An invoice sent to a customer.\n\nIt is issued once and paid later.",
    "properties": {
        "number": {"type": "string", "description": "The invoice number."},
        "issued": DATE,
        "due": {"type": ["string", "null"], "format": "date-time"},
        "status": {
            "type": "string",
            "enum": ["draft", "sent", "paid"],
            "description": "Where the invoice stands.",
            "default": "draft",
        },
        "currency": {
            "type": "string",
            "enum": ["EUR", "USD"],
            "description": "The currency of every amount.",
            "default": "EUR",
        },
        "priority": {"type": ["integer", "null"], "enum": [1, 2, None], "default": None},
        "billing": ADDRESS,
        "shipping": {**ADDRESS, "type": ["object", "null"], "default": None},
        "lines": {"type": "array", "items": LINE},
        "totals": {"type": "object", "additionalProperties": {"type": "number"}},
        "span": {
            "type": ["array", "null"],
            "prefixItems": [DATE, DATE],
            "minItems": 2,
            "maxItems": 2,
            "default": None,
        },
        "notes": {"type": "array", "items": {"type": "string", "description": "A free-form note."}},
        "reference": {
            "type": ["string", "integer", "null"],
            "anyOf": [{"type": "string", "format": "uuid"}, {"type": "integer"}, {"type": "null"}],
            "default": None,
        },
        "paid": {"type": "boolean", "default": False},
        "discount": {"type": "number", "description": "A discount in percent.", "default": 0.0},
    },
    "required": ["number", "issued", "due", "billing"],
    "additionalProperties": False,
}
AN_INVOICE: dict[str, Any] = {
    "number": "F-1",
    "issued": "2025-05-01",
    "due": None,
    "billing": {"street": "1 Hacker Way", "city": "Menlo Park"},
    "lines": [{"sku": "A", "quantity": 2, "unit_price": 3.5, "tags": ["x", "y"]}],
    "totals": {"net": 7.0},
    "span": ["2025-05-01", "2025-05-31"],
    "reference": 42,
    "priority": 2,
    "currency": "USD",
    "notes": ["Leave at the door."],
}


@dataclasses.dataclass(frozen=True)
class Point:
    """A point on a map.

    Args:
        lon: Longitude in degrees.
    """

    lat: float = dataclasses.field(metadata={"description": "Latitude in degrees."})
    lon: float
    label: str | None = None
    visits: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Bare:
    x: int
    computed: int = dataclasses.field(default=0, init=False)


@attrs.define
class Described:
    """Precedence of descriptions.

    Attributes:
        a: From the docstring.
        b: From the docstring.
        c: From the docstring.
        home: From the docstring.
    """

    a: Annotated[int, "From Annotated."] = attrs.field(metadata={"description": "From metadata."})
    b: Annotated[int, "From Annotated."]
    c: int
    home: Address
    work: Address


@attrs.define
class Base:
    """A base.

    Attributes:
        x: Documented on the base.
    """

    x: int


@attrs.define
class Child(Base):
    y: int


@attrs.define
class Node:
    value: int
    children: list[Node] = attrs.Factory(list)


@dataclasses.dataclass
class Folder:
    files: list[File]


@dataclasses.dataclass
class File:
    parent: Folder | None


@attrs.define
class BadLine:
    amount: decimal.Decimal


@attrs.define
class BadInvoice:
    lines: list[BadLine]


@attrs.define
class Broken:
    value: Missing  # type: ignore[name-defined]  # noqa: F821


# -- json_schema --------------------------------------------------------------------------------


def test_an_invoice_gives_an_inlined_fully_typed_schema() -> None:
    """Nested classes are inlined; optional, literal, enum, collection and date fields are typed."""
    invalid = [
        {k: v for k, v in AN_INVOICE.items() if k != "number"},
        {**AN_INVOICE, "unknown": 1},
        {**AN_INVOICE, "status": "void"},
        {**AN_INVOICE, "priority": 3},
        {**AN_INVOICE, "currency": None},
        {**AN_INVOICE, "billing": {"street": "x", "city": "y", "zip": "z"}},
        {**AN_INVOICE, "lines": [{"sku": "A", "quantity": 2}]},
        {**AN_INVOICE, "lines": [{"sku": "A", "quantity": 2, "unit_price": 1, "tags": ["x", "x"]}]},
        {**AN_INVOICE, "totals": {"net": "7"}},
        {**AN_INVOICE, "span": ["2025-05-01"]},
        {**AN_INVOICE, "reference": 1.5},
        {**AN_INVOICE, "internal": "x"},
    ]
    minimal = {
        "number": "F-2",
        "issued": "2025-05-01",
        "due": None,
        "billing": AN_INVOICE["billing"],
    }
    assert check(json_schema(Invoice), [AN_INVOICE, minimal], invalid) == INVOICE


def test_each_call_returns_a_new_schema() -> None:
    """Changing a returned schema changes nothing the next call returns."""
    first = json_schema(Invoice)
    first["properties"]["billing"]["properties"].clear()
    first["required"].append("paid")
    assert json_schema(Invoice) == INVOICE


def test_a_dataclass_gives_the_same_kind_of_schema() -> None:
    """Dataclass fields, defaults, factories and metadata read like attrs ones."""
    expected = {
        "type": "object",
        "description": "A point on a map.",
        "properties": {
            "lat": {"type": "number", "description": "Latitude in degrees."},
            "lon": {"type": "number", "description": "Longitude in degrees."},
            "label": {"type": ["string", "null"], "default": None},
            "visits": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["lat", "lon"],
        "additionalProperties": False,
    }
    valid = [{"lat": 1, "lon": 2.5}, {"lat": 1, "lon": 2, "label": None, "visits": [3]}]
    invalid = [{"lat": 1}, {"lat": 1, "lon": 2, "label": 3}, {"lat": "1", "lon": 2}]
    assert check(json_schema(Point), valid, invalid) == expected


def test_the_docstring_dataclasses_writes_is_no_description() -> None:
    """Without a docstring a dataclass gets no ``Bare(x: int)`` description; init=False is left out."""
    assert check(json_schema(Bare)) == {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    }


def test_descriptions_come_from_metadata_then_annotated_then_the_docstring() -> None:
    """Metadata beats ``Annotated``, which beats the docstring, which beats the nested class."""
    properties = check(json_schema(Described))["properties"]
    assert {name: schema.get("description") for name, schema in properties.items()} == {
        "a": "From metadata.",
        "b": "From Annotated.",
        "c": "From the docstring.",
        "home": "From the docstring.",
        "work": "A postal address.",
    }


def test_field_notes_of_a_base_class_are_inherited() -> None:
    """A subclass without a docstring has no description, but its base's notes still apply."""
    assert check(json_schema(Child)) == {
        "type": "object",
        "properties": {
            "x": {"type": "integer", "description": "Documented on the base."},
            "y": {"type": "integer"},
        },
        "required": ["x", "y"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    ("default", "expected"),
    [
        (None, {"default": None}),
        ("x", {"default": "x"}),
        (3, {"default": 3}),
        (2.5, {"default": 2.5}),
        (True, {"default": True}),
        (Currency.USD, {"default": "USD"}),
        (float("nan"), {}),
        ((), {}),
        (attrs.Factory(list), {}),
    ],
)
def test_only_json_defaults_are_shown(default: object, expected: dict[str, Any]) -> None:
    """A default shows when JSON can carry it; factories and other objects only unrequire."""
    schema = check(json_schema(holder(int | None, default=default)))
    assert schema["required"] == []
    assert schema["properties"]["value"] == {"type": ["integer", "null"], **expected}


UserId = NewType("UserId", int)


@pytest.mark.parametrize(
    ("tp", "expected", "valid", "invalid"),
    [
        (Optional[int], {"type": ["integer", "null"]}, [1, None], ["1", 1.5]),  # noqa: UP045
        (Union[int, None], {"type": ["integer", "null"]}, [1, None], ["1"]),  # noqa: UP007
        (int | None, {"type": ["integer", "null"]}, [1, None], ["1"]),
        (int | str, {"type": ["integer", "string"]}, [1, "1"], [None, 1.5]),
        (Union[int, str, None], {"type": ["integer", "string", "null"]}, [None], [[]]),  # noqa: UP007
        (float, {"type": "number"}, [1, 1.5], ["1", True]),
        (bool, {"type": "boolean"}, [True], [1, "true"]),
        (None, {"type": "null"}, [None], [0]),
        (type(None), {"type": "null"}, [None], [0]),
        (UserId, {"type": "integer"}, [7], ["7"]),
        (
            Literal["auto", 0, None],
            {"type": ["string", "integer", "null"], "enum": ["auto", 0, None]},
            ["auto", 0, None],
            ["none", 1],
        ),
        (Literal[True], {"type": "boolean", "enum": [True]}, [True], [False, 1]),
        (
            Literal[Currency.USD, "XBT"],
            {"type": "string", "enum": ["USD", "XBT"]},
            ["XBT"],
            ["EUR"],
        ),
        (
            Literal["a", "b"] | None,
            {"type": ["string", "null"], "enum": ["a", "b", None]},
            ["a", None],
            ["c"],
        ),
        (Currency, {"type": "string", "enum": ["EUR", "USD"]}, ["EUR"], ["GBP", None]),
        (Ratio, {"type": ["number", "integer"], "enum": [0.5, 1]}, [0.5, 1], [2]),
        (
            Address | str,
            {"type": ["object", "string"], "anyOf": [ADDRESS, {"type": "string"}]},
            ["x", {"street": "s", "city": "c"}],
            [None, {"street": "s"}],
        ),
        (
            Line | Address | None,
            {"type": ["object", "null"], "anyOf": [LINE, ADDRESS, {"type": "null"}]},
            [None, {"street": "s", "city": "c"}],
            [{}],
        ),
        (
            list[int | str],
            {"type": "array", "items": {"type": ["integer", "string"]}},
            [[1, "a"]],
            [[None]],
        ),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}, [[], [1, 2]], [["1"]]),
        (
            tuple[str, int],
            {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "integer"}],
                "minItems": 2,
                "maxItems": 2,
            },
            [["a", 1]],
            [["a"], ["a", 1, 2], [1, "a"]],
        ),
        (tuple[()], {"type": "array", "maxItems": 0}, [[]], [[1]]),
        (
            set[str],
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            [["a", "b"]],
            [["a", "a"]],
        ),
        (
            Mapping[str, Line],
            {"type": "object", "additionalProperties": LINE},
            [{}, {"a": {"sku": "A", "quantity": 1, "unit_price": 2}}],
            [{"a": 1}],
        ),
        (datetime.time, {"type": "string", "format": "time"}, ["12:00:00Z"], [1200]),
        (uuid.UUID, {"type": "string", "format": "uuid"}, [str(uuid.UUID(int=1))], [1]),
        (Annotated[int, 3], {"type": "integer"}, [1], ["1"]),
        (
            Annotated[int, {"max": 3}, "Count."],
            {"type": "integer", "description": "Count."},
            [],
            [],
        ),
        (
            Annotated[Line, "A line."] | None,
            {**LINE, "type": ["object", "null"], "description": "A line."},
            [None],
            [{}],
        ),
    ],
)
def test_each_supported_type(
    tp: Any, expected: dict[str, Any], valid: list[object], invalid: list[object]
) -> None:
    """Each type maps to a schema with a ``type``; null is added to ``type`` and ``enum``."""
    schema = value_schema(tp)
    assert schema == expected
    check({"type": "object", "properties": {"v": schema}}, [{"v": v} for v in valid])
    check({"type": "object", "properties": {"v": schema}}, [], [{"v": v} for v in invalid])


class Empty(enum.Enum):
    pass


class Shape(enum.Enum):
    SQUARE = (1, 1)


T = TypeVar("T")


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (Any, "Holder.value: typing.Any is not supported; it has no JSON type"),
        (bytes, "Holder.value: bytes is not supported; JSON has no bytes"),
        (decimal.Decimal, "Holder.value: decimal.Decimal is not supported; use float"),
        (object, "Holder.value: object is not supported; supported are str"),
        (T, "Holder.value: ~T is not supported"),
        (list, "Holder.value: list is not supported; say what it holds"),
        (typing.List, "Holder.value: typing.List is not supported; say what it holds"),  # noqa: UP006
        (typing.Tuple, "Holder.value: typing.Tuple is not supported; say what it holds"),  # noqa: UP006
        (dict[int, str], r"Holder.value: dict\[int, str\] is not supported; JSON object keys"),
        (dict[str, list[bytes]], r"Holder.value\{\}\[\]: bytes is not supported"),
        (tuple[int, Any], r"Holder.value\[1\]: typing.Any"),
        (int | Any, "Holder.value: typing.Any"),
        (Empty, r"Holder.value: \S*Empty is not supported; it has no values"),
        (Shape, r"its value \(1, 1\) is not a JSON string, number, boolean or null"),
    ],
)
def test_unsupported_types_are_refused_where_they_are(tp: Any, message: str) -> None:
    """The error names the class, the path to the field and the type."""
    with pytest.raises(TypeError, match=message):
        json_schema(holder(tp))


def test_the_path_follows_nested_classes() -> None:
    """A bad type deep inside is reported with its full path."""
    with pytest.raises(TypeError, match=r"BadInvoice\.lines\[\]\.amount: decimal\.Decimal"):
        json_schema(BadInvoice)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Node, r"Node\.children\[\]: Node is recursive \(Node -> Node\)"),
        (Folder, r"Folder\.files\[\]\.parent: Folder is recursive \(Folder -> File -> Folder\)"),
    ],
)
def test_recursive_classes_are_refused(cls: type, message: str) -> None:
    """A class that contains itself, directly or not, cannot be inlined."""
    with pytest.raises(TypeError, match=message) as info:
        json_schema(cls)
    assert "cannot be inlined" in str(info.value)


def test_an_unresolvable_annotation_is_a_type_error() -> None:
    """A forward reference to nothing names the class and the missing name."""
    with pytest.raises(TypeError, match="annotations of Broken: name 'Missing' is not defined"):
        json_schema(Broken)


@pytest.mark.parametrize("tp", [int, dict, Currency, list[Address]])
def test_only_classes_with_fields_are_accepted(tp: Any) -> None:
    """A response format or a tool's parameters is an object: it comes from a class."""
    with pytest.raises(TypeError, match="takes an attrs class or a dataclass"):
        json_schema(tp)


# -- functions ----------------------------------------------------------------------------------


def get_weather(location: str) -> None:
    """Retrieve the current temperature for a specified location

    Args:
        location: The city, state, or country for which to fetch
            the temperature
    """


def google_style(city: str, days: int = 1, *, unit: Literal["c", "f"] = "c") -> None:
    """Forecast the weather.

    Args:
        city (str): The city to look up,
            with its country.
        days: How many days ahead.
        unit: The temperature unit.

    Returns:
        Nothing.

    Raises:
        LookupError: the city is unknown.
    """


def numpy_style(city: str, days: int = 1, *, unit: Literal["c", "f"] = "c") -> None:
    """Forecast the weather.

    Parameters
    ----------
    city : str
        The city to look up,
        with its country.
    days : int, optional
        How many days ahead.
    unit : {"c", "f"}
        The temperature unit.

    Returns
    -------
    None
        Nothing.
    """


def rest_style(city: str, days: int = 1, *, unit: Literal["c", "f"] = "c") -> None:
    """Forecast the weather.

    :param str city: The city to look up,
        with its country.
    :param days: How many days ahead.
    :type days: int
    :param unit: The temperature unit.
    :returns: Nothing.
    :raises LookupError: the city is unknown.
    """


FORECAST = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city to look up, with its country."},
        "days": {"type": "integer", "description": "How many days ahead.", "default": 1},
        "unit": {
            "type": "string",
            "enum": ["c", "f"],
            "description": "The temperature unit.",
            "default": "c",
        },
    },
    "required": ["city"],
    "additionalProperties": False,
}


def ship(
    destination: Address,
    lines: list[Line],
    currency: Currency,
    speed: Literal["standard", "express"] = "standard",
    pickup: Point | None = None,
    priority: Priority = Priority.LOW,
    note: str | None = None,
) -> None:
    """Ship an order.

    Args:
        destination: Where to.
        lines: What to ship.
    """


def late(first: int = 1, *, then: str) -> None:
    """A required keyword-only parameter after one with a default."""


class Shop:
    def price(self, sku: str, quantity: int = 1) -> float:
        """Price *quantity* items of *sku*.

        Args:
            sku: The item.
        """
        return 1.0 * quantity


def test_the_wire_reference_tool_example() -> None:
    """The tool of the wire reference (§8.4) comes out exactly as the docs show it."""
    parameters = {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city, state, or country for which to fetch the temperature",
            }
        },
        "required": ["location"],
        "additionalProperties": False,
    }
    schema = check(json_schema(parameters_class(get_weather)), [{"location": "Paris"}], [{}])
    assert schema == parameters
    assert schema_name(get_weather) == "get_weather"
    assert function_description(get_weather) == (
        "Retrieve the current temperature for a specified location"
    )


@pytest.mark.parametrize("fn", [google_style, numpy_style, rest_style])
def test_parameters_are_described_in_any_docstring_style(fn: typing.Callable[..., None]) -> None:
    """Google, NumPy and reST docstrings describe the same parameters the same way."""
    valid = [{"city": "Paris"}, {"city": "Paris", "days": 3, "unit": "f"}]
    invalid = [{}, {"city": "Paris", "unit": "k"}, {"city": "Paris", "hours": 3}]
    assert check(json_schema(parameters_class(fn)), valid, invalid) == FORECAST
    assert function_description(fn) == "Forecast the weather."


def test_arguments_validate_and_structure_with_a_stock_converter() -> None:
    """What the schema accepts, a plain cattrs converter turns into the function's arguments."""
    arguments = {
        "destination": {"street": "1 Hacker Way", "city": "Menlo Park", "country": "US"},
        "lines": [{"sku": "A", "quantity": 2, "unit_price": 3.5, "tags": ["gift"]}],
        "currency": "USD",
        "speed": "express",
        "pickup": {"lat": 37.48, "lon": -122.15},
        "note": None,
    }
    minimal = {"destination": {"street": "s", "city": "c"}, "lines": [], "currency": "EUR"}
    cls = parameters_class(ship)
    schema = json_schema(cls)
    check(schema, [arguments, minimal], [{**minimal, "currency": "GBP"}, {**minimal, "lines": {}}])
    assert schema["required"] == ["destination", "lines", "currency"]
    assert schema["properties"]["destination"]["description"] == "Where to."

    converter = cattrs.Converter()
    args: Any = converter.structure(arguments, cls)
    assert attrs.asdict(args, recurse=False) == {
        "destination": Address("1 Hacker Way", "Menlo Park", "US"),
        "lines": [Line("A", 2, 3.5, frozenset({"gift"}))],
        "currency": Currency.USD,
        "speed": "express",
        "pickup": Point(37.48, -122.15),
        "priority": Priority.LOW,
        "note": None,
    }
    defaults: Any = converter.structure(minimal, cls)
    assert (defaults.speed, defaults.pickup, defaults.priority) == ("standard", None, Priority.LOW)
    ship(**attrs.asdict(defaults, recurse=False))


def test_the_parameters_class_is_a_frozen_keyword_only_attrs_class() -> None:
    """It is named after the function and keeps the parameters' order and defaults."""
    cls = parameters_class(late)
    assert cls.__name__ == "late"
    assert cls.__module__ == __name__
    assert [(f.name, f.kw_only, f.default) for f in attrs.fields(cls)] == [
        ("first", True, 1),
        ("then", True, attrs.NOTHING),
    ]
    instance = cls(then="x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        instance.then = "y"
    assert check(json_schema(cls))["required"] == ["then"]


def test_a_bound_method_loses_self() -> None:
    """A bound method's parameters start after ``self``; an unbound one has an unannotated self."""
    schema = check(json_schema(parameters_class(Shop().price)))
    assert schema["properties"] == {
        "sku": {"type": "string", "description": "The item."},
        "quantity": {"type": "integer", "default": 1},
    }
    assert function_description(Shop().price) == "Price *quantity* items of *sku*."
    with pytest.raises(TypeError, match=r"parameter 'self' of Shop\.price"):
        parameters_class(Shop.price)


def star(*words: str) -> None: ...
def double_star(**options: int) -> None: ...
def positional(a: int, /) -> None: ...
def unannotated(a, b: int) -> None: ...  # type: ignore[no-untyped-def]
def dangling(a: Nowhere) -> None: ...  # type: ignore[name-defined]  # noqa: F821


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (star, r"star\(\) takes \*words; a JSON Schema lists named parameters only"),
        (double_star, r"double_star\(\) takes \*\*options"),
        (positional, r"positional\(\) has the positional-only parameter 'a'"),
        (unannotated, r"the parameter 'a' of unannotated\(\) has no annotation"),
        (dangling, r"annotations of dangling\(\): name 'Nowhere' is not defined"),
    ],
)
def test_parameters_a_schema_cannot_express_are_refused(
    fn: typing.Callable[..., None], message: str
) -> None:
    """Arguments arrive as one JSON object of named, typed values."""
    with pytest.raises(TypeError, match=message):
        parameters_class(fn)


def test_a_callable_without_a_name_is_refused() -> None:
    """A `functools.partial` has no name to give the class (or the tool)."""
    with pytest.raises(TypeError, match=r"takes a function, not functools\.partial"):
        parameters_class(functools.partial(google_style, "Paris"))


def test_function_description_without_a_docstring_is_none() -> None:
    """No docstring, or one with sections only, gives no description."""

    def documented_arguments_only(x: int) -> None:
        """Args:
        x: a number.
        """

    assert function_description(star) is None
    assert function_description(documented_arguments_only) is None


@pytest.mark.parametrize(
    ("obj", "name"),
    [
        (Invoice, "Invoice"),
        (ship, "ship"),
        (lambda: None, "_lambda_"),
        (type("a.b c", (), {}), "a_b_c"),
        (type("x" * 100, (), {}), "x" * 64),
        (type("Résumé-1", (), {}), "R_sum_-1"),
    ],
)
def test_schema_names_are_restricted_to_what_the_api_takes(obj: Any, name: str) -> None:
    """Letters, digits, ``_`` and ``-``, at most 64 of them."""
    assert schema_name(obj) == name
    assert schema_name(parameters_class(ship)) == "ship"


def test_schema_name_needs_a_name() -> None:
    """An object without a ``__name__``, or with an empty one, has no schema name."""
    with pytest.raises(TypeError, match="has no __name__"):
        schema_name(typing.cast(Any, 42))
    with pytest.raises(ValueError, match="empty __name__"):
        schema_name(type("", (), {}))


# -- docstrings ---------------------------------------------------------------------------------

GOOGLE = """Summary line.

    More text,
    on two lines.

    Args:
        name (dict(str, int)): First
            and second line.
        *args: Extra words.
        **kwargs: Extra options.

    Returns:
        value: not a parameter.

    Raises:
        ValueError: not a parameter either.
    """
NUMPY = """Summary line.

    More text,
    on two lines.

    Parameters
    ----------
    name : dict(str, int)
        First
        and second line.
    *args
        Extra words.
    **kwargs : dict
        Extra options.

    Returns
    -------
    value : int
        not a parameter.
    """
REST = """Summary line.

    More text,
    on two lines.

    :param dict(str, int) name: First
        and second line.
    :param args: Extra words.
    :type args: str
    :keyword kwargs: Extra options.
    :returns value: not a parameter.
    :raises ValueError: not a parameter either.
    """


@pytest.mark.parametrize("doc", [GOOGLE, NUMPY, REST])
def test_the_three_docstring_styles_read_alike(doc: str) -> None:
    """Description, parameter names and joined texts; return and raise notes are skipped."""
    assert parse_docstring(doc) == Docstring(
        "Summary line.\n\nMore text,\non two lines.",
        {"name": "First and second line.", "args": "Extra words.", "kwargs": "Extra options."},
    )


@pytest.mark.parametrize("doc", [None, "", "   \n  "])
def test_no_docstring(doc: str | None) -> None:
    """Nothing to read gives no description and no fields."""
    assert parse_docstring(doc) == Docstring(None, {})


def test_attribute_sections_and_fields() -> None:
    """``Attributes``, ``:ivar:``, ``:cvar:`` and ``:var:`` name things too; the first text wins."""
    doc = """Attributes:
        a: From Google.

    Attributes
    ----------
    a : int
        Second, ignored.
    b, c : float
        Both of them.

    :ivar d: From ivar.
    :cvar e: From cvar.
    :var list[int] f: From var.
    :meta private:
    """
    assert parse_docstring(doc) == Docstring(
        None,
        {
            "a": "From Google.",
            "b": "Both of them.",
            "c": "Both of them.",
            "d": "From ivar.",
            "e": "From cvar.",
            "f": "From var.",
        },
    )


def test_text_after_a_section_is_not_description() -> None:
    """Only the text before the first section describes; a lone ``Note:`` starts a section."""
    doc = """Summary.

    Note:
        Some note.

    Args:
        x: The x.
    Trailing text.
        Indented too.
    """
    assert parse_docstring(doc) == Docstring("Summary.", {"x": "The x."})


@pytest.mark.parametrize("header", ["Arguments:", "Parameters:", "Keyword Args:", "Params:"])
def test_google_parameter_section_titles(header: str) -> None:
    """Every title napoleon accepts for parameters is read."""
    doc = f"Summary.\n\n{header}\n    x: The x.\n"
    assert parse_docstring(doc).fields == {"x": "The x."}


def test_importing_the_package_does_not_import_the_schema_helpers() -> None:
    """``llama_models`` stays cheap to import; ``_schema`` needs neither aiohttp nor cattrs."""
    script = (
        "import sys, llama_models\n"
        "assert 'llama_models._schema' not in sys.modules\n"
        "import llama_models._schema\n"
        "heavy = {'aiohttp', 'cattrs', 'jsonschema'} & sys.modules.keys()\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", script], check=True, timeout=60)
