"""What the fake answers a chat completion with when no reply is scripted.

The answer depends only on the request, so tests can rely on it:

1. ``response_format`` of type ``json_schema``: a JSON instance of the schema.
2. Else ``tools`` with ``tool_choice`` other than ``"none"``, and the last message from
   the user: a call of the chosen tool (or the first), its arguments an instance of the
   tool's ``parameters`` schema.
3. Else the last message a tool result: ``The tool returned: <its content>``.
4. Else ``You said: <the text of the last user message>``.

With ``max_completion_tokens``, a text answer longer than that many words is cut to that
many, with stop reason ``length``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..types._values import AUTO, JSON_SCHEMA, LENGTH, NONE, TOOL, USER
from ._replies import ChatReply
from ._validation import message_text

__all__ = ["default_reply", "schema_instance"]

_WORD = re.compile(r"\S+")
# Deep enough for any schema a test writes; stops self-referencing `$ref`s.
_MAX_DEPTH = 32


def default_reply(request: Mapping[str, Any]) -> ChatReply:
    """The deterministic answer to the validated chat completion `request`."""
    messages: Sequence[Mapping[str, Any]] = request["messages"]
    response_format = request.get("response_format")
    tool = _chosen_tool(request)
    if response_format is not None and response_format["type"] == JSON_SCHEMA:
        reply = ChatReply.json(schema_instance(response_format["json_schema"]["schema"]))
    elif tool is not None and messages[-1]["role"] == USER:
        arguments = schema_instance(tool.get("parameters", {"type": "object"}))
        return ChatReply.tool_call(tool["name"], arguments if isinstance(arguments, dict) else {})
    elif messages[-1]["role"] == TOOL:
        reply = ChatReply.text(f"The tool returned: {message_text(messages[-1])}")
    else:
        users = [message for message in messages if message["role"] == USER]
        reply = ChatReply.text(f"You said: {message_text(users[-1]) if users else ''}")
    limit = request.get("max_completion_tokens")
    if limit is not None:
        words = list(_WORD.finditer(reply.content))
        if len(words) > limit:
            return ChatReply.text(reply.content[: words[limit - 1].end()], stop_reason=LENGTH)
    return reply


def schema_instance(schema: Any) -> Any:
    """A small, deterministic JSON value valid against the JSON Schema `schema`.

    Objects get every property; strings are ``"example"`` (or a value of their
    ``format``: date-time, date, time, uuid); integers and numbers are ``minimum`` or
    0; booleans false; arrays empty (a fixed tuple, ``prefixItems``, one value each); ``const`` and the first ``enum`` value
    win; ``anyOf``/``oneOf`` take the first branch; local ``$ref``s
    (``#/$defs/...``) are followed. Anything else becomes ``null``.
    """
    return _instance(schema, schema, 0)


def _chosen_tool(request: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tools = request.get("tools") or []
    choice = request.get("tool_choice", AUTO)
    if not tools or choice == NONE:
        return None
    if isinstance(choice, dict):
        wanted = choice["function"]["name"]
        for tool in tools:
            if tool["function"]["name"] == wanted:
                return tool["function"]  # type: ignore[no-any-return]
    return tools[0]["function"]  # type: ignore[no-any-return]


def _instance(schema: Any, root: Any, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return _instance(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            return _instance(branches[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if kind is None and isinstance(schema.get("properties"), dict):
        kind = "object"
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {name: _instance(sub, root, depth + 1) for name, sub in properties.items()}
    if kind == "string":
        return _FORMATTED.get(schema.get("format"), "example")
    if kind in ("integer", "number"):
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, (int, float)) else 0
    if kind == "boolean":
        return False
    if kind == "array":
        items = schema.get("prefixItems")  # a tuple of fixed length: one value per place
        if isinstance(items, list):
            return [_instance(item, root, depth + 1) for item in items]
        return []
    return None


# Strings of a known "format": a value of that format (dates as the epoch of the Llama API's
# model list, 2025-01-01).
_FORMATTED: Mapping[Any, str] = {
    "date-time": "2025-01-01T00:00:00+00:00",
    "date": "2025-01-01",
    "time": "00:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _resolve(reference: Any, root: Any) -> Any:
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    target = root
    for escaped in reference[1:].split("/")[1:]:
        part = escaped.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target
