"""The converter owns the wire: JSON in, objects out, and back to exactly the same JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import attrs
import cattrs
import pytest

from llama_models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ImageContent,
    JsonSchemaFormat,
    Model,
    ModelList,
    Moderation,
    TextContent,
    Tool,
    ToolCall,
    Upload,
    UploadPart,
    UploadStatus,
    UserMessage,
)
from llama_models._converter import StructureError, make_converter, structure
from llama_models.types import FunctionCall, UnknownContent, UnknownDelta, UnknownEvent

CONVERTER = make_converter(codec="json")
STRICT = make_converter(strict=True, codec="json")

# Answers shaped like the examples of the API reference (llama-api.md section 8), each
# with keys no version of this SDK knows, at every level.
NEW = {"added_in_2027": {"nested": [1, None, "x"]}}
ANSWERS: list[tuple[type[Any], dict[str, Any]]] = [
    (
        ModelList,
        {
            "object": "list",
            "data": [
                {"id": "Llama-3.3-70B-Instruct", "created": 1735718400, "object": "model",
                 "owned_by": "Meta", **NEW},
            ],
            **NEW,
        },
    ),
    (
        ChatCompletion,
        {
            "id": "8c3b9a52",
            "completion_message": {
                "role": "assistant", "stop_reason": "stop", "tool_calls": [],
                "content": {"type": "text", "text": "Hello!", **NEW}, **NEW,
            },
            "metrics": [
                {"metric": "num_completion_tokens", "value": 25, "unit": "tokens", **NEW},
                {"metric": "num_prompt_tokens", "value": 2.5},
            ],
            **NEW,
        },
    ),
    (
        ChatCompletion,
        {
            "completion_message": {
                "role": "assistant", "content": {"type": "text", "text": ""},
                "stop_reason": "tool_calls",
                "tool_calls": [{"id": "466d49b7", "function": {"name": "get_weather",
                                "arguments": "{\"location\":\"Menlo Park\"}", **NEW}, **NEW}],
            },
        },
    ),
    (ChatCompletion, {"completion_message": {"role": "assistant", "content": "plain", "stop_reason": None}}),
    (ChatCompletion, {"completion_message": {"role": "assistant", "content": {"type": "audio", "x": 1}}}),
    (ChatCompletionChunk, {"id": "c1f0", "event": {"event_type": "start",
                                                   "delta": {"type": "text", "text": ""}, **NEW}}),
    (ChatCompletionChunk, {"id": "c1f1", "event": {"event_type": "progress", "delta": {
        "type": "tool_call", "id": "85870f14", "function": {"name": "get_weather", "arguments": ""}}}}),
    (ChatCompletionChunk, {"event": {"event_type": "progress", "delta": {
        "type": "tool_call", "function": {"arguments": "{\"location\":"}}}, **NEW}),
    (ChatCompletionChunk, {"id": "c1f1", "event": {"event_type": "complete",
                                                   "delta": {"type": "text", "text": ""},
                                                   "stop_reason": "tool_calls"}}),
    (ChatCompletionChunk, {"id": "c1f1", "event": {"event_type": "metrics",
                                                   "delta": {"type": "text", "text": ""},
                                                   "metrics": [{"metric": "num_total_tokens", "value": 29,
                                                                "unit": "tokens"}]}}),
    (ChatCompletionChunk, {"event": {"event_type": "heartbeat", "at": 3}}),
    (ChatCompletionChunk, {"event": {"event_type": "progress", "delta": {"type": "image", "url": "u"}}}),
    (Moderation, {"model": "Llama-Guard", "results": [{"flagged": True, "flagged_categories": ["privacy"], **NEW}]}),
    (Moderation, {"model": "Llama-Guard", "results": [{"flagged": False, "flagged_categories": []}]}),
    (Upload, {"id": "upload_7f3c2a", "bytes": 2048, "filename": "a.jsonl",
              "mime_type": "application/jsonl", "purpose": "messages_finetune", **NEW}),
    (UploadStatus, {"upload_id": "upload_7f3c2a", "offset": 1024}),
    (UploadPart, {"upload_id": "upload_7f3c2a", "offset": 2048, "file_id": "file_9b1e44"}),
    (UploadPart, {"upload_id": "upload_7f3c2a", "offset": 1024}),
]  # fmt: skip
ANSWER_IDS = [f"{cls.__name__}-{index}" for index, (cls, _) in enumerate(ANSWERS)]


@pytest.mark.parametrize(("cls", "data"), ANSWERS, ids=ANSWER_IDS)
def test_to_dict_gives_back_exactly_what_the_server_sent(cls: type[Any], data: Any) -> None:
    """Unknown keys, defaults sent explicitly, keys left out: all come back as they were."""
    sent = copy.deepcopy(data)
    answer = structure(CONVERTER, data, cls)
    assert answer.to_dict() == sent
    assert json.loads(answer.to_json()) == sent
    assert data == sent  # structuring changed nothing it was given


def test_unknown_keys_are_kept_where_they_were() -> None:
    """Each object carries the keys its class does not know."""
    completion = structure(CONVERTER, ANSWERS[1][1], ChatCompletion)
    assert completion.extra_fields == NEW
    assert completion.completion_message.extra_fields == NEW
    assert completion.metrics[0].extra_fields == NEW
    assert completion.metrics[1].extra_fields == {}
    assert Model("m", 1).extra_fields == {}


def test_unknown_keys_take_no_part_in_equality() -> None:
    """Two answers that differ only in keys this SDK does not know are equal."""
    plain = {"id": "m", "created": 1, "object": "model", "owned_by": "Meta"}
    assert structure(CONVERTER, {**plain, **NEW}, Model) == structure(CONVERTER, plain, Model)


def test_the_strict_converter_refuses_unknown_keys() -> None:
    """The test suite's converter names the keys it does not know."""
    with pytest.raises(StructureError, match="added_in_2027"):
        structure(STRICT, ANSWERS[0][1], ModelList)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": None, "created": 1}, r"Model\.id"),
        ({"id": "m", "created": "1"}, r"Model\.created"),
        ({"id": "m", "created": 1.5}, r"Model\.created"),
        ({"id": "m", "created": True}, r"Model\.created"),
        ({"id": "m"}, r"required field missing @ Model\.created"),
        ([1], "Model: TypeError: expected an object, got an array"),
    ],
)
def test_json_of_the_wrong_kind_is_refused_by_path(data: Any, message: str) -> None:
    """No field turns null into "None" or a string into a number: the error names the field."""
    with pytest.raises(StructureError, match=message):
        structure(CONVERTER, data, Model)


def test_a_flag_must_be_a_json_boolean() -> None:
    """``"false"`` is not taken for True."""
    with pytest.raises(StructureError, match=r"flagged"):
        structure(CONVERTER, {"model": "m", "results": [{"flagged": "false"}]}, Moderation)


def test_metric_values_keep_the_number_the_server_sent() -> None:
    """A fraction stays a float and an integer stays an int."""
    completion = structure(CONVERTER, ANSWERS[1][1], ChatCompletion)
    values = [metric.value for metric in completion.metrics]
    assert values == [25, 2.5]
    assert [type(value) for value in values] == [int, float]


def test_a_metric_value_that_is_not_a_number_is_explained() -> None:
    """A metric value that is no number fails with the path to it."""
    data = {
        "completion_message": {"role": "assistant"},
        "metrics": [{"metric": "n", "value": "lots"}],
    }
    with pytest.raises(StructureError, match=r"ChatCompletion\.metrics\[0\]\.value"):
        structure(CONVERTER, data, ChatCompletion)


def test_an_unknown_assistant_role_is_kept() -> None:
    """A role newer than this SDK structures, and the message reports it."""
    data = {"completion_message": {"role": "assistant_v2", "content": "Hi"}}
    completion = structure(STRICT, data, ChatCompletion)
    assert (completion.completion_message.role, completion.text) == ("assistant_v2", "Hi")


def test_tags_this_sdk_does_not_know_become_the_unknown_classes() -> None:
    """A new event type, delta type or content type is kept whole."""
    event = structure(STRICT, ANSWERS[10][1], ChatCompletionChunk).event
    assert event == UnknownEvent(event_type="heartbeat", data={"event_type": "heartbeat", "at": 3})
    chunk = structure(STRICT, ANSWERS[11][1], ChatCompletionChunk)
    assert chunk.delta == UnknownDelta("image", {"type": "image", "url": "u"})
    content = structure(STRICT, ANSWERS[4][1], ChatCompletion).completion_message.content
    assert content == UnknownContent("audio", {"type": "audio", "x": 1})


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (UserMessage("Hi"), {"role": "user", "content": "Hi"}),
        (
            UserMessage((TextContent("What is it?"), ImageContent("https://x/y.png"))),
            {"role": "user", "content": [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ]},
        ),
        (AssistantMessage(content="Hi"), {"role": "assistant", "content": "Hi"}),
        (
            AssistantMessage(stop_reason="tool_calls", tool_calls=(ToolCall("1", FunctionCall("f", "{}")),)),
            {"role": "assistant", "stop_reason": "tool_calls",
             "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{}"}}]},
        ),
        (
            Tool(name="f", description="Does f.", parameters={"type": "object"}),
            {"type": "function", "function": {"name": "f", "description": "Does f.",
                                              "parameters": {"type": "object"}}},
        ),
        (
            JsonSchemaFormat("Address", {"type": "object"}),
            {"type": "json_schema", "json_schema": {"name": "Address", "schema": {"type": "object"}}},
        ),
    ],
    ids=["user", "user-items", "assistant", "assistant-calls", "tool", "json-schema"],
)  # fmt: skip
def test_request_objects_unstructure_to_the_api_shape(value: Any, wire: Any) -> None:
    """Objects built in Python leave out fields at their None or empty default."""
    assert value.to_dict() == wire
    assert structure(CONVERTER, wire, type(value)) == value


def test_an_answer_sent_back_loses_nothing() -> None:
    """A completion's message goes back with the keys this SDK did not know."""
    message = structure(CONVERTER, ANSWERS[1][1], ChatCompletion).completion_message
    assert CONVERTER.unstructure(message) == ANSWERS[1][1]["completion_message"]


@attrs.frozen
class Invoice:
    number: str
    total: float


def test_users_register_their_own_types_on_a_copy() -> None:
    """The converter structures the user's own classes, and a copy takes their hooks."""
    mine = CONVERTER.copy()
    mine.register_structure_hook(Invoice, lambda data, _: Invoice(data["no"], data["sum"]))
    assert mine.structure({"no": "A-1", "sum": 3}, Invoice) == Invoice("A-1", 3.0)
    assert CONVERTER.structure({"number": "A-1", "total": 3}, Invoice) == Invoice("A-1", 3.0)


def test_the_codec_must_be_one_of_the_known_ones() -> None:
    """A misspelt codec is refused, not ignored."""
    with pytest.raises(ValueError, match="codec must be"):
        make_converter(codec="ujson")  # type: ignore[arg-type]


def test_a_detailed_error_names_every_failing_field() -> None:
    """The detailed pass runs only on failure and reports each field."""
    data = {"data": [{"id": 1, "created": "x"}]}
    with pytest.raises(StructureError) as caught:
        structure(CONVERTER, data, ModelList)
    assert "ModelList.data[0].id" in str(caught.value)
    assert "ModelList.data[0].created" in str(caught.value)
    assert isinstance(caught.value.__cause__, cattrs.ClassValidationError)


def test_a_key_named_like_the_converters_own_is_kept_as_unknown() -> None:
    """The key the converter uses inside its hooks is, from a server, just an unknown key."""
    data = {"id": "m", "created": 1, "object": "model", "owned_by": "Meta"}
    data["__llama_models_wire__"] = {"x": 1}
    model = structure(CONVERTER, data, Model)
    assert model.extra_fields == {"__llama_models_wire__": {"x": 1}}
    assert model.to_dict() == data
