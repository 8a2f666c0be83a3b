"""chat.completions.parse: replies that do not fit raise; a response_format or option refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import attrs
import pytest
from parse_support import (
    BROKEN,
    CUT_OFF,
    HELLO,
    INVOICE,
    MISSHAPEN,
    MODEL,
    Delivery,
    Invoice,
    check_failing_paths,
    compact,
)

from llama_models import (
    AsyncLlamaClient,
    InvalidArgumentError,
    JsonSchemaFormat,
    LlamaClient,
    ModelOutputError,
    StructuredOutputError,
)
from llama_models.testing import ChatReply, FakeLlamaAPI

pytestmark = pytest.mark.anyio


# -- a reply that does not fit -------------------------------------------------------------


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
