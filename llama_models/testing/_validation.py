"""Validation of chat completion and moderation requests (llama-api.md §1.3, §1.4, §4).

Each check raises `InvalidRequest` with a detail that names the offending field, such as
``messages[2].tool_call_id is required``; the handlers answer it with a 400. Checks run
in a fixed order, so a request with several faults always gets the same detail. Unknown
top-level keys are ignored, as the hosted API appears to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..types._values import (
    ASSISTANT,
    FUNCTION,
    IMAGE_URL,
    JSON_SCHEMA,
    ROLES,
    STOP_REASONS,
    TEXT,
    TEXT_FORMAT,
    TOOL,
    TOOL_CHOICES,
    USER,
)

__all__ = [
    "MAX_IMAGES",
    "InvalidRequest",
    "check_messages",
    "message_text",
    "parse_json_body",
    "validate_chat",
]

#: At most this many images per request (the documented limit).
MAX_IMAGES = 9

# What a tool_choice may be, for the 400 detail of one that is neither.
_TOOL_CHOICE_RULE = (
    f"tool_choice must be {', '.join(map(repr, TOOL_CHOICES))} or "
    f'{{"type": "{FUNCTION}", "function": {{"name": ...}}}}'
)
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MISSING: Any = object()

# (field, integers only, minimum, maximum) from the request table of §1.3.
_RANGES: tuple[tuple[str, bool, float, float | None], ...] = (
    ("max_completion_tokens", True, 1, None),
    ("repetition_penalty", False, 1, 2),
    ("temperature", False, 0, 1),
    ("top_k", True, 0, None),
    ("top_p", False, 0, 1),
)


class InvalidRequest(Exception):
    """The request breaks a documented rule; `detail` says which and where."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def parse_json_body(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """Return the body as a JSON object, checking the ``Content-Type`` first."""
    content_type = headers.get("Content-Type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        raise InvalidRequest(f"Content-Type must be application/json, got {content_type or 'none'}")
    try:
        value = json.loads(body)
    except ValueError:  # also UnicodeDecodeError
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be a JSON object")
    return value


def validate_chat(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """Return the validated body of a ``POST /v1/chat/completions`` request."""
    request = parse_json_body(headers, body)
    model = request.get("model", _MISSING)
    if model is _MISSING:
        raise InvalidRequest("model is required")
    if not isinstance(model, str):
        raise InvalidRequest("model must be a string")
    check_messages(request)
    for name, integer, low, high in _RANGES:
        if name in request:
            _check_range(name, request[name], integer, low, high)
    _check_response_format(request.get("response_format", _MISSING))
    names = _check_tools(request.get("tools", _MISSING))
    _check_tool_choice(request.get("tool_choice", _MISSING), names)
    if "user" in request and not isinstance(request["user"], str):
        raise InvalidRequest("user must be a string")
    stream = request.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("stream must be a boolean")
    # The hosted API refuses a stream the client did not say it can read (§3.1).
    if stream and "text/event-stream" not in headers.get("Accept", "").lower():
        raise InvalidRequest("stream: true needs an Accept header with text/event-stream")
    return request


def check_messages(request: Mapping[str, Any]) -> None:
    """Check the request's ``messages`` array against §4.1, including the image limit."""
    messages = request.get("messages", _MISSING)
    if messages is _MISSING:
        raise InvalidRequest("messages is required")
    if not isinstance(messages, list):
        raise InvalidRequest("messages must be a list")
    if not messages:
        raise InvalidRequest("messages must not be empty")
    images = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise InvalidRequest(f"{where} must be an object")
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequest(f"{where}.role must be one of {', '.join(ROLES)}")
        if "content" in message:
            images += _check_content(role, message["content"], f"{where}.content")
        elif role != ASSISTANT:
            raise InvalidRequest(f"{where}.content is required")
        if role == TOOL:
            _check_string(message, "tool_call_id", where, required=True)
        elif role == ASSISTANT:
            _check_assistant(message, where)
    if images > MAX_IMAGES:
        raise InvalidRequest(
            f"messages carry {images} images; at most {MAX_IMAGES} are allowed per request"
        )


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a validated message's content; text items are joined by spaces."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content["text"])
    if isinstance(content, list):
        return " ".join(item["text"] for item in content if item["type"] == TEXT)
    return ""


def _check_content(role: str, content: Any, where: str) -> int:
    if isinstance(content, str):
        return 0
    if role == ASSISTANT:
        # The assistant turn takes one text item, not an array (§4.1).
        if not isinstance(content, dict):
            raise InvalidRequest(f"{where} must be a string or one text item")
        _check_item(content, where, (TEXT,))
        return 0
    if not isinstance(content, list):
        raise InvalidRequest(f"{where} must be a string or a list of content items")
    types = (TEXT, IMAGE_URL) if role == USER else (TEXT,)
    images = 0
    for index, item in enumerate(content):
        images += _check_item(item, f"{where}[{index}]", types)
    return images


def _check_item(item: Any, where: str, types: tuple[str, ...]) -> int:
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where} must be a content item object")
    kind = item.get("type")
    if kind not in types:
        allowed = " or ".join(repr(name) for name in types)
        raise InvalidRequest(f"{where}.type must be {allowed}")
    if kind == TEXT:
        _check_string(item, "text", where, required=True)
        return 0
    image = item.get("image_url")
    if not isinstance(image, dict):
        raise InvalidRequest(f"{where}.image_url must be an object with a url")
    _check_string(image, "url", f"{where}.image_url", required=True)
    return 1


def _check_assistant(message: Mapping[str, Any], where: str) -> None:
    if "stop_reason" in message and message["stop_reason"] not in STOP_REASONS:
        raise InvalidRequest(f"{where}.stop_reason must be one of {', '.join(STOP_REASONS)}")
    calls = message.get("tool_calls", _MISSING)
    if calls is _MISSING:
        return
    if not isinstance(calls, list):
        raise InvalidRequest(f"{where}.tool_calls must be a list")
    for index, call in enumerate(calls):
        at = f"{where}.tool_calls[{index}]"
        if not isinstance(call, dict):
            raise InvalidRequest(f"{at} must be an object")
        _check_string(call, "id", at, required=True)
        function = call.get("function")
        if not isinstance(function, dict):
            raise InvalidRequest(f"{at}.function is required")
        _check_string(function, "name", f"{at}.function", required=True)
        _check_string(function, "arguments", f"{at}.function", required=True)


def _check_string(
    container: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> None:
    if key not in container:
        if required:
            raise InvalidRequest(f"{where}.{key} is required")
        return
    if not isinstance(container[key], str):
        raise InvalidRequest(f"{where}.{key} must be a string")


def _check_range(name: str, value: Any, integer: bool, low: float, high: float | None) -> None:
    kinds = (int,) if integer else (int, float)
    # `not low <= value` also rejects NaN, which Python's JSON parser lets through.
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not low <= value
        or (high is not None and not value <= high)
    ):
        noun = "an integer" if integer else "a number"
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise InvalidRequest(f"{name} must be {noun} {bounds}")


def _check_response_format(value: Any) -> None:
    if value is _MISSING:
        return
    if not isinstance(value, dict) or value.get("type") not in (TEXT_FORMAT, JSON_SCHEMA):
        raise InvalidRequest(f"response_format.type must be {TEXT_FORMAT!r} or {JSON_SCHEMA!r}")
    if value["type"] == TEXT_FORMAT:
        return
    schema = value.get("json_schema")
    if not isinstance(schema, dict):
        raise InvalidRequest("response_format.json_schema is required")
    _check_string(schema, "name", "response_format.json_schema", required=True)
    if not isinstance(schema.get("schema"), dict):
        raise InvalidRequest("response_format.json_schema.schema must be a JSON Schema object")


def _check_tools(tools: Any) -> list[str]:
    if tools is _MISSING:
        return []
    if not isinstance(tools, list):
        raise InvalidRequest("tools must be a list")
    names: list[str] = []
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict) or tool.get("type") != FUNCTION:
            raise InvalidRequest(f"{where}.type must be {FUNCTION!r}")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise InvalidRequest(f"{where}.function is required")
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            raise InvalidRequest(
                f"{where}.function.name must be 1 to 64 letters, digits, '_' or '-'"
            )
        _check_string(function, "description", f"{where}.function")
        if "parameters" in function and not isinstance(function["parameters"], dict):
            raise InvalidRequest(f"{where}.function.parameters must be a JSON Schema object")
        if "strict" in function and not isinstance(function["strict"], bool):
            raise InvalidRequest(f"{where}.function.strict must be a boolean")
        names.append(name)
    return names


def _check_tool_choice(choice: Any, names: list[str]) -> None:
    if choice is _MISSING or choice in TOOL_CHOICES:
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if (
        not isinstance(choice, dict)
        or choice.get("type") != FUNCTION
        or not isinstance(function, dict)
        or not isinstance(function.get("name"), str)
    ):
        raise InvalidRequest(_TOOL_CHOICE_RULE)
    if function["name"] not in names:
        raise InvalidRequest(f"tool_choice names {function['name']!r}, which is not in tools")
