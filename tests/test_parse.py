"""chat.completions.parse: the JSON Schema of a class of ours goes out, an instance comes back."""

from __future__ import annotations

import datetime
import json
from typing import Any

import cattrs
import pytest
from parse_support import (
    CUT_OFF,
    DELIVERY,
    DELIVERY_JSON,
    HELLO,
    INVOICE,
    INVOICE_JSON,
    MISSHAPEN,
    MODEL,
    Currency,
    Customer,
    Delivery,
    Invoice,
    Line,
    asked_format,
    check_failing_paths,
    compact,
)

from llama_models import (
    AsyncLlamaClient,
    AsyncParsedChatCompletionStream,
    ChatCompletion,
    LlamaClient,
    ParsedChatCompletion,
    ParsedChatCompletionStream,
    StructuredOutputError,
)
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

ROUND_TRIPS = pytest.mark.parametrize(
    ("cls", "value", "expected"),
    [(Invoice, INVOICE_JSON, INVOICE), (Delivery, DELIVERY_JSON, DELIVERY)],
    ids=["attrs-holding-a-dataclass", "dataclass-holding-an-attrs-class"],
)


# -- a reply that fits ---------------------------------------------------------------------


@ROUND_TRIPS
async def test_a_reply_becomes_an_instance_of_the_class(
    codec_client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    cls: type[Any],
    value: dict[str, Any],
    expected: object,
) -> None:
    """Nested classes, Optional, Literal, Enum, lists, dicts and dates come back as written."""
    server.enqueue_replies(ChatReply.json(value))
    completion = await codec_client.chat.completions.parse(
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
