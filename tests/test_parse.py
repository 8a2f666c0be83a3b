"""chat.completions.parse: the JSON Schema of a class of ours goes out, an instance comes back."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections.abc import AsyncIterator
from typing import Any, Literal, Optional

import attrs
import cattrs
import pytest

from llama_models import (
    AsyncLlamaClient,
    AsyncParsedChatCompletionStream,
    ChatCompletion,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    ModelOutputError,
    ParsedChatCompletion,
    ParsedChatCompletionStream,
    StructuredOutputError,
    json_schema,
)
from llama_models._converter import make_converter
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

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
ROUND_TRIPS = pytest.mark.parametrize(
    ("cls", "value", "expected"),
    [(Invoice, INVOICE_JSON, INVOICE), (Delivery, DELIVERY_JSON, DELIVERY)],
    ids=["attrs-holding-a-dataclass", "dataclass-holding-an-attrs-class"],
)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def asked_format(cls: type) -> dict[str, Any]:
    """The response_format a request carries when parse() is given *cls*."""
    return {
        "type": "json_schema",
        "json_schema": {"name": cls.__name__, "schema": json_schema(cls)},
    }


@pytest.fixture(params=["json", "orjson"])
async def any_codec_client(
    request: pytest.FixtureRequest, server: FakeLlamaAPI
) -> AsyncIterator[AsyncLlamaClient]:
    """An async client with a strict converter of either codec (orjson is the default one)."""
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        converter=make_converter(strict=True, codec=request.param),
    ) as llama:
        yield llama


# -- a reply that fits ---------------------------------------------------------------------


@ROUND_TRIPS
async def test_a_reply_becomes_an_instance_of_the_class(
    any_codec_client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    cls: type[Any],
    value: dict[str, Any],
    expected: object,
) -> None:
    """Nested classes, Optional, Literal, Enum, lists, dicts and dates come back as written."""
    server.enqueue_replies(ChatReply.json(value))
    completion = await any_codec_client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=cls
    )
    assert isinstance(completion, ParsedChatCompletion)
    assert isinstance(completion, ChatCompletion)
    assert completion.parsed == expected
    assert completion.text == compact(value)
    assert completion.stop_reason == "stop"
    (request,) = server.requests
    assert request.json() == {
        "model": MODEL,
        "messages": HELLO,
        "response_format": asked_format(cls),
    }


@ROUND_TRIPS
def test_the_blocking_client_parses_the_same(
    sync_client: LlamaClient,
    threaded_server: FakeLlamaAPI,
    cls: type[Any],
    value: dict[str, Any],
    expected: object,
) -> None:
    """The blocking parse sends the same schema and returns the same instance."""
    threaded_server.enqueue_replies(ChatReply.json(value))
    completion = sync_client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=cls
    )
    assert isinstance(completion, ParsedChatCompletion)
    assert completion.parsed == expected
    (request,) = threaded_server.requests
    assert request.json()["response_format"] == asked_format(cls)


def test_the_schema_sent_is_the_class_schema() -> None:
    """The schema carries the docstring, the field notes, the enums and the nested objects."""
    schema = asked_format(Invoice)["json_schema"]["schema"]
    assert schema["description"] == "An invoice read from a scan."
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["number", "issued", "status", "customer", "lines", "totals"]
    line = schema["properties"]["lines"]["items"]
    assert line["properties"]["sku"] == {"type": "string", "description": "the article number."}
    assert line["properties"]["currency"] == {"type": "string", "enum": ["EUR", "USD"]}
    assert line["properties"]["note"] == {"type": ["string", "null"], "default": None}
    assert schema["properties"]["status"] == {"type": "string", "enum": ["draft", "sent", "paid"]}
    assert schema["properties"]["totals"] == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }
    assert schema["properties"]["issued"] == {"type": "string", "format": "date"}


async def test_other_options_go_out_with_the_format(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Every other create() option reaches the request: numbers, user, headers, extra body."""
    server.enqueue_replies(ChatReply.json(INVOICE_JSON))
    completion = await client.chat.completions.parse(
        model=MODEL,
        messages=HELLO,
        response_format=Invoice,
        temperature=0.2,
        max_completion_tokens=512,
        top_p=0.9,
        user="user-1",
        timeout=30,
        extra_headers={"X-Trace": "t1"},
        extra_body={"seed": 7},
    )
    assert completion.parsed == INVOICE
    (request,) = server.requests
    assert request.headers["X-Trace"] == "t1"
    assert request.json() == {
        "model": MODEL,
        "messages": HELLO,
        "response_format": asked_format(Invoice),
        "temperature": 0.2,
        "max_completion_tokens": 512,
        "top_p": 0.9,
        "user": "user-1",
        "seed": 7,
    }


async def test_the_fake_answers_with_an_instance_of_the_schema(client: AsyncLlamaClient) -> None:
    """Unscripted, the fake writes JSON from the schema sent, and it parses."""
    completion = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Delivery
    )
    assert completion.parsed == Delivery(
        Customer("example"), datetime.date(2025, 1, 1), False, [], "post"
    )


async def test_to_dict_gives_back_the_servers_json(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A parsed completion's to_dict() is the JSON the server sent, with no "parsed" key."""
    body = {
        "id": "chat-1",
        "completion_message": {
            "role": "assistant",
            "content": {"type": "text", "text": compact(INVOICE_JSON)},
            "stop_reason": "stop",
            "tool_calls": [],
        },
        "metrics": [{"metric": "num_total_tokens", "value": 42, "unit": "tokens"}],
    }
    server.enqueue(Fault.respond(200, json=body))
    completion = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Invoice
    )
    assert completion.parsed == INVOICE
    assert completion.to_dict() == body
    assert json.loads(completion.to_json()) == body
    assert "parsed" not in completion.to_dict()


# -- a reply that does not fit -------------------------------------------------------------

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


async def test_a_reply_that_is_not_json_raises(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Broken JSON raises StructuredOutputError with the text, the decoder's complaint, the stop."""
    server.enqueue_replies(ChatReply.text(BROKEN))
    with pytest.raises(StructuredOutputError, match="not valid JSON") as caught:
        await client.chat.completions.parse(model=MODEL, messages=HELLO, response_format=Invoice)
    error = caught.value
    assert isinstance(error, ModelOutputError)
    assert error.text == BROKEN
    assert error.stop_reason == "stop"
    assert len(error.errors) == 1
    assert "Invoice" in str(error)


async def test_a_reply_of_another_shape_names_every_failing_place(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """JSON that does not fit lists each failing path: a literal, a missing key, a type, an enum."""
    server.enqueue_replies(ChatReply.json(MISSHAPEN))
    with pytest.raises(StructuredOutputError, match="does not fit Invoice") as caught:
        await client.chat.completions.parse(model=MODEL, messages=HELLO, response_format=Invoice)
    assert caught.value.text == compact(MISSHAPEN)
    assert caught.value.stop_reason == "stop"
    check_failing_paths(caught.value)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("null", "null"),
        ('"I cannot read it"', "a string"),
        ("[1, 2]", "an array"),
        ("7", "a number"),
    ],
)
async def test_json_that_is_no_object_says_so(
    client: AsyncLlamaClient, server: FakeLlamaAPI, reply: str, kind: str
) -> None:
    """A reply that is JSON but not an object is reported as such, not as every field wrong."""
    server.enqueue_replies(ChatReply.text(reply))
    with pytest.raises(StructuredOutputError, match=f"{kind}, not a JSON object") as caught:
        await client.chat.completions.parse(model=MODEL, messages=HELLO, response_format=Delivery)
    assert caught.value.errors == [f"expected a JSON object, got {kind} @ Delivery"]
    assert caught.value.text == reply


async def test_a_reply_cut_off_says_so(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """stop_reason "length" raises an error that tells of the token limit, not of broken JSON."""
    server.enqueue_replies(ChatReply.text(CUT_OFF, stop_reason="length"))
    with pytest.raises(StructuredOutputError, match="cut off at max_completion_tokens") as caught:
        await client.chat.completions.parse(
            model=MODEL, messages=HELLO, response_format=Invoice, max_completion_tokens=12
        )
    assert caught.value.stop_reason == "length"
    assert caught.value.text == CUT_OFF
    assert "JSON" not in str(caught.value)


def test_the_blocking_client_raises_the_same_errors(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """Broken, misshapen and cut-off replies raise StructuredOutputError on the blocking client."""
    threaded_server.enqueue_replies(
        ChatReply.text(BROKEN),
        ChatReply.json(MISSHAPEN),
        ChatReply.text(CUT_OFF, stop_reason="length"),
    )
    parse = sync_client.chat.completions.parse
    with pytest.raises(StructuredOutputError, match="not valid JSON") as broken:
        parse(model=MODEL, messages=HELLO, response_format=Invoice)
    assert broken.value.text == BROKEN
    with pytest.raises(StructuredOutputError, match="does not fit Invoice") as misshapen:
        parse(model=MODEL, messages=HELLO, response_format=Invoice)
    check_failing_paths(misshapen.value)
    with pytest.raises(StructuredOutputError, match="cut off") as cut:
        parse(model=MODEL, messages=HELLO, response_format=Invoice)
    assert (cut.value.stop_reason, cut.value.text) == ("length", CUT_OFF)


# -- a response_format that is no class of ours --------------------------------------------


class NotARecord:
    number: str


@attrs.frozen
class WithBytes:
    data: bytes


@dataclasses.dataclass
class WithAny:
    anything: Any


@attrs.frozen
class Node:
    children: list[Node]


@attrs.frozen
class WithBareList:
    items: list  # type: ignore[type-arg]


BAD_FORMATS = pytest.mark.parametrize(
    ("response_format", "match"),
    [
        (INVOICE, "not Invoice"),
        (dict, "attrs class or a dataclass"),
        (NotARecord, "attrs class or a dataclass"),
        (JsonSchemaFormat("Invoice", {"type": "object"}), "create\\(response_format="),
        ({"type": "json_schema"}, "attrs class or a dataclass"),
        (WithBytes, "WithBytes.data: bytes is not supported"),
        (WithAny, "WithAny.anything: typing.Any is not supported"),
        (Node, "recursive"),
        (WithBareList, "say what it holds"),
    ],
    ids=[
        "an-instance",
        "dict",
        "a-plain-class",
        "a-JsonSchemaFormat",
        "a-mapping",
        "bytes-field",
        "Any-field",
        "recursive",
        "bare-list",
    ],
)


@BAD_FORMATS
async def test_a_bad_response_format_is_refused_before_sending(
    client: AsyncLlamaClient, server: FakeLlamaAPI, response_format: Any, match: str
) -> None:
    """Anything but an attrs class or dataclass with a schema raises InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError, match=match):
        await client.chat.completions.parse(
            model=MODEL, messages=HELLO, response_format=response_format
        )
    with pytest.raises(InvalidArgumentError, match=match):
        await client.chat.completions.parse(
            model=MODEL, messages=HELLO, response_format=response_format, stream=True
        )
    assert server.requests == []


@BAD_FORMATS
def test_the_blocking_client_refuses_them_too(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI, response_format: Any, match: str
) -> None:
    """The blocking parse refuses the same formats, sending nothing."""
    with pytest.raises(InvalidArgumentError, match=match):
        sync_client.chat.completions.parse(
            model=MODEL, messages=HELLO, response_format=response_format
        )
    assert threaded_server.requests == []


async def test_bad_options_are_refused_before_sending(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Options create() refuses are refused by parse() too, and nothing is sent."""
    completions = client.chat.completions
    with pytest.raises(InvalidArgumentError, match="idle_timeout applies to streams only"):
        await completions.parse(
            model=MODEL, messages=HELLO, response_format=Invoice, idle_timeout=1
        )
    with pytest.raises(InvalidArgumentError, match="temperature"):
        await completions.parse(model=MODEL, messages=HELLO, response_format=Invoice, temperature=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        await completions.parse(model=MODEL, messages=HELLO, response_format=Invoice, colour=1)
    assert server.requests == []


# -- streamed ------------------------------------------------------------------------------


async def test_a_stream_gives_text_deltas_then_the_parsed_object(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """stream=True yields the JSON as it is written; final_completion() structures the whole."""
    server.enqueue_replies(ChatReply.json(INVOICE_JSON, chunk_size=16))
    stream = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Invoice, stream=True, temperature=0
    )
    assert isinstance(stream, AsyncParsedChatCompletionStream)
    async with stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.retries == 0
        deltas = [delta async for delta in stream.text_deltas()]
        final = await stream.final_completion()
    text = compact(INVOICE_JSON)
    assert deltas == [text[i : i + 16] for i in range(0, len(text), 16)]
    assert isinstance(final, ParsedChatCompletion)
    assert final.parsed == INVOICE
    assert final.text == text
    assert stream.closed
    (request,) = server.requests
    assert request.json() == {
        "model": MODEL,
        "messages": HELLO,
        "response_format": asked_format(Invoice),
        "temperature": 0,
        "stream": True,
    }


async def test_a_stream_can_be_iterated_chunk_by_chunk(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Iterating the stream itself gives chunks whose text joins to the reply."""
    server.enqueue_replies(ChatReply.json(DELIVERY_JSON, chunk_size=10))
    stream = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Delivery, stream=True
    )
    async with stream:
        chunks = [chunk async for chunk in stream]
        final = await stream.final_completion()
    assert "".join(chunk.text for chunk in chunks) == compact(DELIVERY_JSON)
    assert final.parsed == DELIVERY


async def test_a_stream_that_does_not_fit_raises_at_the_end(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A streamed reply cut off, or of another shape, raises from final_completion()."""
    server.enqueue_replies(
        ChatReply.text(CUT_OFF, stop_reason="length", chunk_size=8),
        ChatReply.json(MISSHAPEN, chunk_size=8),
    )
    cut = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Invoice, stream=True
    )
    async with cut:
        assert "".join([delta async for delta in cut.text_deltas()]) == CUT_OFF
        with pytest.raises(StructuredOutputError, match="cut off") as caught:
            await cut.final_completion()
    assert (caught.value.stop_reason, caught.value.text) == ("length", CUT_OFF)
    misshapen = await client.chat.completions.parse(
        model=MODEL, messages=HELLO, response_format=Invoice, stream=True
    )
    async with misshapen:
        with pytest.raises(StructuredOutputError) as caught:
            await misshapen.final_completion()
    check_failing_paths(caught.value)
    assert misshapen.closed


def test_the_blocking_stream_gives_deltas_then_the_parsed_object(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking parse stream yields the same deltas and the same parsed object."""
    threaded_server.enqueue_replies(
        ChatReply.json(INVOICE_JSON, chunk_size=16),
        ChatReply.json(DELIVERY_JSON, chunk_size=10),
        ChatReply.text(CUT_OFF, stop_reason="length"),
    )
    parse = sync_client.chat.completions.parse
    stream = parse(model=MODEL, messages=HELLO, response_format=Invoice, stream=True)
    assert isinstance(stream, ParsedChatCompletionStream)
    with stream:
        assert stream.status_code == 200
        deltas = list(stream.text_deltas())
        final = stream.final_completion()
    assert "".join(deltas) == compact(INVOICE_JSON)
    assert len(deltas) > 1
    assert final.parsed == INVOICE
    assert stream.closed
    assert threaded_server.requests[0].json()["stream"] is True
    with parse(model=MODEL, messages=HELLO, response_format=Delivery, stream=True) as chunked:
        text = "".join(chunk.text for chunk in chunked)
        assert chunked.final_completion().parsed == DELIVERY
    assert text == compact(DELIVERY_JSON)
    with (
        parse(model=MODEL, messages=HELLO, response_format=Invoice, stream=True) as cut,
        pytest.raises(StructuredOutputError, match="cut off") as caught,
    ):
        cut.final_completion()
    assert caught.value.stop_reason == "length"


def test_a_custom_converter_hook_is_used(
    threaded_server: FakeLlamaAPI, strict_converter: cattrs.Converter
) -> None:
    """The client's own converter structures the reply, so hooks registered on it apply."""
    converter = strict_converter.copy()
    converter.register_structure_hook(Currency, lambda value, _: Currency(value.upper()))
    threaded_server.enqueue_replies(
        ChatReply.json({**INVOICE_JSON, "lines": [{**INVOICE_JSON["lines"][0], "currency": "eur"}]})
    )
    with LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, converter=converter
    ) as llama:
        completion = llama.chat.completions.parse(
            model=MODEL, messages=HELLO, response_format=Invoice
        )
    assert completion.parsed.lines == [Line("X1", 2, 9.5, Currency.EUR)]
