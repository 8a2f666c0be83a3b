"""Build and check the JSON body of a chat or moderation request, before any I/O.

Pure functions. Messages, tools, ``tool_choice`` and ``response_format`` may be
plain dicts in the API's JSON shape or the attrs classes of
`llama_models.types`. Objects are unstructured by the converter (the one place
that knows their JSON), then every dict goes through the same checks, so a
malformed request fails with an `InvalidArgumentError` naming the exact field
(``messages[2].tool_call_id is required``) and nothing is sent. Unknown keys in
a dict are passed through untouched: the API tolerates them, and a newer API may
need them. Tag and enum values are read from the classes' ``Literal`` types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._images import IMAGE_MIME_TYPES, MAX_IMAGE_BYTES, MAX_IMAGES_PER_REQUEST
from .errors import InvalidArgumentError
from .types import _values as api
from .types._wire import WireObject
from .types.messages import AssistantMessage, Tool, UnknownContent

__all__ = ["chat_body", "check_model", "messages_body", "tool_choice_body"]

_ROLES = (api.USER, api.SYSTEM, api.TOOL, api.ASSISTANT)
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATA_URL = re.compile(r"data:([^;,]+);base64,", re.IGNORECASE)


def _plain(value: object) -> object:
    """An SDK object as the JSON it stands for (by the converter); anything else as it is."""
    if isinstance(value, WireObject):
        from ._converter import default_converter  # only requests built from objects need it

        return default_converter().unstructure(value)
    return value


def fail(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)


def check_model(model: object, name: str = "model") -> str:
    if not isinstance(model, str) or not model.strip():
        raise fail(
            f"{name} must be a non-empty model id such as 'Llama-3.3-70B-Instruct', not {model!r}"
        )
    return model


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise fail(f"{where} must be a str, not {type(value).__name__}")
    return value


# -- messages ----------------------------------------------------------------------------


def messages_body(messages: object) -> list[dict[str, Any]]:
    """The wire form of *messages*, checked message by message."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        raise fail(
            "messages must be a list of messages, e.g. "
            "[{'role': 'user', 'content': 'Hello'}], not " + type(messages).__name__
        )
    body: list[dict[str, Any]] = []
    images = 0
    for index, message in enumerate(messages):
        wire, count = _message(message, f"messages[{index}]")
        body.append(wire)
        images += count
    if not body:
        raise fail("messages must hold at least one message")
    if images > MAX_IMAGES_PER_REQUEST:
        raise fail(
            f"messages carry {images} images; the API accepts at most {MAX_IMAGES_PER_REQUEST}"
        )
    return body


def _message(message: object, where: str) -> tuple[dict[str, Any], int]:
    # An assistant turn from the server may hold a content item newer than this SDK: it
    # goes back as it came, unchecked.
    item_as_sent = isinstance(message, AssistantMessage) and isinstance(
        message.content, UnknownContent
    )
    message = _plain(message)
    if not isinstance(message, Mapping):
        raise fail(
            f"{where} must be a dict with a 'role' or a message class (UserMessage, "
            f"SystemMessage, AssistantMessage, ToolMessage), not {type(message).__name__}"
        )
    role = message.get("role")
    if role not in _ROLES:
        hint = (
            "; use 'system' (the native API has no 'developer' role)" if role == "developer" else ""
        )
        if "role" not in message:
            raise fail(f"{where}.role is required (one of {', '.join(map(repr, _ROLES))})")
        raise fail(
            f"{where}.role must be one of {', '.join(map(repr, _ROLES))}, not {role!r}{hint}"
        )
    wire = dict(message)
    if role == api.ASSISTANT:
        return _assistant(wire, where, item_as_sent=item_as_sent), 0
    if "content" not in wire or wire["content"] is None:
        raise fail(f"{where}.content is required for a {role} message")
    if role == api.TOOL:
        call_id = wire.get("tool_call_id")
        if call_id is None:
            raise fail(f"{where}.tool_call_id is required for a tool message")
        if not isinstance(call_id, str) or not call_id:
            raise fail(f"{where}.tool_call_id must be a non-empty str, not {call_id!r}")
    wire["content"], images = _content(
        wire["content"], f"{where}.content", images_allowed=role == api.USER
    )
    return wire, images


def _assistant(wire: dict[str, Any], where: str, *, item_as_sent: bool) -> dict[str, Any]:
    content = wire.get("content")
    if content is None:
        wire.pop("content", None)
    elif isinstance(content, Mapping) and not item_as_sent:
        item, _ = _item(content, f"{where}.content", images_allowed=False)
        wire["content"] = item
    elif not isinstance(content, (str, Mapping)):
        raise fail(
            f"{where}.content must be a str or one text item for an assistant message, "
            f"not {type(content).__name__}"
        )
    stop_reason = wire.get("stop_reason")
    if stop_reason is None:
        wire.pop("stop_reason", None)
    elif not isinstance(stop_reason, str) or not stop_reason:
        # Any non-empty string: a stop reason newer than this SDK must still go back as is.
        raise fail(
            f"{where}.stop_reason must be a str such as {', '.join(map(repr, api.STOP_REASONS))}, "
            f"not {stop_reason!r}"
        )
    calls = wire.get("tool_calls")
    if calls is None:
        wire.pop("tool_calls", None)
    else:
        if isinstance(calls, (str, Mapping)) or not isinstance(calls, Iterable):
            raise fail(f"{where}.tool_calls must be a list of tool calls")
        wire["tool_calls"] = [
            _tool_call(call, f"{where}.tool_calls[{i}]") for i, call in enumerate(calls)
        ]
        if not wire["tool_calls"]:
            del wire["tool_calls"]
    return wire


def _tool_call(call: object, where: str) -> dict[str, Any]:
    call = _plain(call)
    if not isinstance(call, Mapping):
        raise fail(f"{where} must be a dict or a ToolCall, not {type(call).__name__}")
    function = _plain(call.get("function"))
    if not isinstance(function, Mapping):
        raise fail(f"{where}.function is required: {{'name': ..., 'arguments': ...}}")
    for key in ("name", "arguments"):
        _text(function.get(key), f"{where}.function.{key}")
    _text(call.get("id"), f"{where}.id")
    return {**call, "function": dict(function)}


def _content(content: object, where: str, *, images_allowed: bool) -> tuple[Any, int]:
    if isinstance(content, str):
        return content, 0
    if isinstance(content, (bytes, Mapping)) or not isinstance(content, Iterable):
        kinds = "text and image items" if images_allowed else "text items"
        raise fail(f"{where} must be a str or a list of {kinds}, not {type(content).__name__}")
    items = []
    images = 0
    for index, item in enumerate(content):
        wire, is_image = _item(item, f"{where}[{index}]", images_allowed=images_allowed)
        items.append(wire)
        images += is_image
    return items, images


def _item(item: object, where: str, *, images_allowed: bool) -> tuple[dict[str, Any], int]:
    item = _plain(item)
    if isinstance(item, str):
        raise fail(
            f"{where} must be a content item such as {{'type': 'text', 'text': ...}}, not a bare str"
        )
    if not isinstance(item, Mapping):
        raise fail(f"{where} must be a content item dict, not {type(item).__name__}")
    kind = item.get("type")
    if kind == api.TEXT:
        _text(item.get(api.TEXT), f"{where}.{api.TEXT}")
        return dict(item), 0
    if kind == api.IMAGE_URL:
        if not images_allowed:
            raise fail(f"{where}: images are accepted only in user messages")
        image = item.get(api.IMAGE_URL)
        if not isinstance(image, Mapping):
            raise fail(f"{where}.{api.IMAGE_URL} must be {{'url': ...}}")
        url = f"{where}.{api.IMAGE_URL}.url"
        _check_image_url(_text(image.get("url"), url), url)
        return {**item, api.IMAGE_URL: dict(image)}, 1
    allowed = f"{api.TEXT!r} or {api.IMAGE_URL!r}" if images_allowed else repr(api.TEXT)
    raise fail(f"{where}.type must be {allowed}, not {kind!r}")


def _check_image_url(url: str, where: str) -> None:
    if url.startswith("https://"):
        return
    match = _DATA_URL.match(url)
    if match is None:
        raise fail(
            f"{where} must be an https:// URL or a data:image/...;base64 URL; "
            "for a local file use ImageContent.from_file(path)"
        )
    mime = match.group(1).lower()
    if mime not in IMAGE_MIME_TYPES:
        raise fail(f"{where}: image type {mime!r} is not accepted (JPEG, PNG, GIF or ICO)")
    encoded = len(url) - match.end()
    if encoded // 4 * 3 > MAX_IMAGE_BYTES + 2:
        raise fail(f"{where}: the image is larger than {MAX_IMAGE_BYTES:,} bytes (25 MB)")


# -- tools and formats -------------------------------------------------------------------


def tools_body(tools: object) -> list[dict[str, Any]]:
    if isinstance(tools, (str, Mapping)) or not isinstance(tools, Iterable):
        raise fail("tools must be a list of Tool objects or tool dicts")
    body = []
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        tool = _plain(tool)
        if not isinstance(tool, Mapping):
            raise fail(f"{where} must be a Tool or a dict, not {type(tool).__name__}")
        if tool.get("type") != api.FUNCTION:
            raise fail(f"{where}.type must be {api.FUNCTION!r}, not {tool.get('type')!r}")
        function = tool.get(api.FUNCTION)
        if not isinstance(function, Mapping):
            raise fail(f"{where}.function is required: {{'name': ..., 'parameters': ...}}")
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            raise fail(
                f"{where}.function.name must be 1-64 letters, digits, '_' or '-', not {name!r}"
            )
        if name in seen:
            raise fail(f"{where}.function.name {name!r} is used by an earlier tool")
        seen.add(name)
        _optional(function, "description", str, f"{where}.function")
        _optional(function, "parameters", Mapping, f"{where}.function")
        _optional(function, "strict", bool, f"{where}.function")
        body.append({**tool, api.FUNCTION: dict(function)})
    return body


def _optional(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, kind):
        raise fail(f"{where}.{key} must be a {kind.__name__}, not {type(value).__name__}")


def tool_choice_body(choice: object, tool_names: set[str] | None) -> Any:
    if isinstance(choice, str):
        if choice not in api.TOOL_CHOICES:
            hint = (
                f"; to force a tool pass the Tool itself or {_forced(choice)}"
                if tool_names and choice in tool_names
                else ""
            )
            modes = ", ".join(map(repr, api.TOOL_CHOICES))
            raise fail(f"tool_choice must be {modes} or a tool, not {choice!r}{hint}")
        if choice == api.REQUIRED and not tool_names:
            raise fail(f"tool_choice={choice!r} needs tools")
        return choice
    if isinstance(choice, Tool):
        name: object = choice.name
    elif isinstance(choice, Mapping) and choice.get("type") == api.FUNCTION:
        function = choice.get(api.FUNCTION)
        name = function.get("name") if isinstance(function, Mapping) else None
    else:
        modes = ", ".join(map(repr, api.TOOL_CHOICES))
        raise fail(f"tool_choice must be {modes}, a Tool or {_forced('...')}, not {choice!r}")
    if not isinstance(name, str) or tool_names is None or name not in tool_names:
        raise fail(f"tool_choice names tool {name!r}, which is not among the tools passed")
    return {"type": api.FUNCTION, api.FUNCTION: {"name": name}}


def _forced(name: str) -> str:
    """How a tool_choice that forces the tool *name* is spelled."""
    shown = name if name == "..." else repr(name)
    return f"{{'type': {api.FUNCTION!r}, {api.FUNCTION!r}: {{'name': {shown}}}}}"


def response_format_body(value: object) -> dict[str, Any]:
    value = _plain(value)
    if not isinstance(value, Mapping):
        raise fail(
            f"response_format must be a JsonSchemaFormat or a dict, not {type(value).__name__}"
        )
    kind = value.get("type")
    if kind == api.TEXT_FORMAT:
        return dict(value)
    if kind != api.JSON_SCHEMA:
        raise fail(
            f"response_format.type must be {api.JSON_SCHEMA!r} or {api.TEXT_FORMAT!r}, not {kind!r} "
            "(the API has no JSON mode without a schema)"
        )
    inner = value.get(api.JSON_SCHEMA)
    where = f"response_format.{api.JSON_SCHEMA}"
    if not isinstance(inner, Mapping):
        raise fail(f"{where} is required: {{'name': ..., 'schema': {{...}}}}")
    _text(inner.get("name"), f"{where}.name")
    if not isinstance(inner.get("schema"), Mapping):
        raise fail(f"{where}.schema must be a JSON Schema dict")
    return {**value, api.JSON_SCHEMA: dict(inner)}


# -- the whole request -------------------------------------------------------------------


def _number(
    value: object, name: str, low: float, high: float | None, *, integer: bool = False
) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise fail(f"{name} must be {'an int' if integer else 'a number'}, not {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise fail(f"{name} must be {bounds}, got {value!r}")
    return value


def chat_body(
    *,
    model: object,
    messages: object,
    max_completion_tokens: object,
    temperature: object,
    top_p: object,
    top_k: object,
    repetition_penalty: object,
    response_format: object,
    tools: object,
    tool_choice: object,
    user: object,
    stream: bool,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions``; arguments left as ``None`` are not sent."""
    body: dict[str, Any] = {"model": check_model(model), "messages": messages_body(messages)}
    if max_completion_tokens is not None:
        body["max_completion_tokens"] = _number(
            max_completion_tokens, "max_completion_tokens", 1, None, integer=True
        )
    if temperature is not None:
        body["temperature"] = _number(temperature, "temperature", 0, 1)
    if top_p is not None:
        body["top_p"] = _number(top_p, "top_p", 0, 1)
    if top_k is not None:
        body["top_k"] = _number(top_k, "top_k", 0, None, integer=True)
    if repetition_penalty is not None:
        body["repetition_penalty"] = _number(repetition_penalty, "repetition_penalty", 1, 2)
    if response_format is not None:
        body["response_format"] = response_format_body(response_format)
    names: set[str] | None = None
    if tools is not None:
        body["tools"] = tools_body(tools)
        names = {tool[api.FUNCTION]["name"] for tool in body["tools"]}
    if tool_choice is not None:
        body["tool_choice"] = tool_choice_body(tool_choice, names)
    if user is not None:
        body["user"] = _text(user, "user")
    if not isinstance(stream, bool):
        raise fail(f"stream must be True or False, not {stream!r}")
    if stream:
        body["stream"] = True
    return merge_extra(body, extra_body)


def merge_extra(body: dict[str, Any], extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    """Add *extra_body*'s fields, refusing those that an argument already sets."""
    if extra_body is None:
        return body
    if not isinstance(extra_body, Mapping):
        raise fail(f"extra_body must be a dict, not {type(extra_body).__name__}")
    for key in extra_body:
        if not isinstance(key, str):
            raise fail(f"extra_body keys must be str, not {key!r}")
        if key == "stream":
            raise fail(
                "pass stream=True as an argument, not in extra_body (it changes what the call returns)"
            )
        if key in body:
            raise fail(f"extra_body sets {key!r}, which an argument already sets; pass it once")
    return {**body, **extra_body}
