"""What the parse tests share: an invoice and a delivery, as classes, as JSON and as replies."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import Any, Literal, Optional

import attrs

from llama_models import StructuredOutputError, json_schema

MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "Read me this invoice."}]


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"


@dataclasses.dataclass
class Line:
    """One line of an invoice.

    Attributes:
        sku: the article number.
        quantity: how many were sold.
    """

    sku: str
    quantity: int
    unit_price: float
    currency: Currency
    note: Optional[str] = None  # noqa: UP045 - typing.Optional is a case of its own


@attrs.frozen
class Customer:
    name: str
    tags: list[str] = attrs.Factory(list)


@attrs.frozen
class Invoice:
    """An invoice read from a scan."""

    number: str
    issued: datetime.date
    status: Literal["draft", "sent", "paid"]
    customer: Customer
    lines: list[Line]
    totals: dict[str, float]
    due: datetime.date | None = None


@dataclasses.dataclass
class Delivery:
    """A dataclass at the top, an attrs class inside."""

    recipient: Customer
    day: datetime.date
    urgent: bool
    packages: list[int]
    by: Literal["post", "courier"] | None = None


INVOICE_JSON: dict[str, Any] = {
    "number": "A-17",
    "issued": "2024-05-01",
    "status": "sent",
    "customer": {"name": "Ada", "tags": ["vip"]},
    "lines": [
        {"sku": "X1", "quantity": 2, "unit_price": 9.5, "currency": "EUR", "note": None},
        {"sku": "Y2", "quantity": 1, "unit_price": 3.0, "currency": "USD", "note": "gift"},
    ],
    "totals": {"EUR": 19.0, "USD": 3.0},
    "due": None,
}
INVOICE = Invoice(
    number="A-17",
    issued=datetime.date(2024, 5, 1),
    status="sent",
    customer=Customer("Ada", ["vip"]),
    lines=[
        Line("X1", 2, 9.5, Currency.EUR),
        Line("Y2", 1, 3.0, Currency.USD, note="gift"),
    ],
    totals={"EUR": 19.0, "USD": 3.0},
)
DELIVERY_JSON: dict[str, Any] = {
    "recipient": {"name": "Grace", "tags": []},
    "day": "2024-12-24",
    "urgent": True,
    "packages": [3, 1],
    "by": "courier",
}
DELIVERY = Delivery(Customer("Grace"), datetime.date(2024, 12, 24), True, [3, 1], "courier")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def asked_format(cls: type) -> dict[str, Any]:
    """The response_format a request carries when parse() is given *cls*."""
    return {
        "type": "json_schema",
        "json_schema": {"name": cls.__name__, "schema": json_schema(cls)},
    }


# Replies that do not fit an Invoice: broken JSON, another shape, and cut off.
BROKEN = '{"number": "A-17", "lines": ['
MISSHAPEN = {
    **INVOICE_JSON,
    "status": "void",
    "customer": {"tags": ["vip"]},
    "lines": [{"sku": "X1", "quantity": "two", "unit_price": 9.5, "currency": "GBP"}],
}
MISSHAPEN_PATHS = (
    "@ Invoice.status",
    "@ Invoice.customer.name",
    "@ Invoice.lines[0].quantity",
    "@ Invoice.lines[0].currency",
)
CUT_OFF = '{"number": "A-17", "issued": "2024-05-01", "sta'


def check_failing_paths(error: StructuredOutputError) -> None:
    for path in MISSHAPEN_PATHS:
        assert any(problem.endswith(path) for problem in error.errors), path
        assert path in str(error)
    assert len(error.errors) == len(MISSHAPEN_PATHS)
