"""The OpenTelemetry GenAI attributes of a call: pure functions of the request and the answer.

Attribute names follow the GenAI semantic conventions (v1.37 and later:
``gen_ai.provider.name``, and message content as ``gen_ai.input.messages`` /
``gen_ai.output.messages`` JSON in the conventions' message schema).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from .._protocol import RequestSpec
from ..types.chat import ChatCompletion

__all__ = [
    "PROVIDER",
    "input_messages",
    "operation",
    "output_messages",
    "request_attributes",
    "response_attributes",
]

#: Not one of the conventions' well-known providers, so a value of our own.
PROVIDER = "meta.llama"

Attributes = dict[str, Any]

# The request fields recorded, by their convention name.
_REQUEST_FIELDS = {
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
}


def operation(spec: RequestSpec) -> tuple[str, str | None]:
    """The ``gen_ai.operation.name`` of a request, and the model it names (if any).

    Chat completions are ``chat``, as in the conventions; the other endpoints
    have names of ours: ``moderation``, ``list_models``, ``retrieve_model`` and
    ``upload``.
    """
    body = spec.json if isinstance(spec.json, Mapping) else {}
    model = body.get("model")
    model = model if isinstance(model, str) else None
    path = spec.path
    if path == "chat/completions":
        return "chat", model
    if path == "moderations":
        return "moderation", model
    if path == "models":
        return "list_models", None
    if path.startswith("models/"):
        return "retrieve_model", unquote(path[len("models/") :])
    if path.startswith("uploads"):
        return "upload", None
    return f"{spec.method} {path}", model  # pragma: no cover - every endpoint is named above


def request_attributes(
    spec: RequestSpec, base_url: str, name: str, model: str | None
) -> Attributes:
    """The span attributes known before the call: operation, provider, model, parameters, server."""
    parts = urlsplit(base_url)
    attributes: Attributes = {
        "gen_ai.operation.name": name,
        "gen_ai.provider.name": PROVIDER,
        "server.address": parts.hostname or "",
        "server.port": parts.port or (443 if parts.scheme == "https" else 80),
    }
    if model is not None:
        attributes["gen_ai.request.model"] = model
    body = spec.json
    if isinstance(body, Mapping):
        for field, key in _REQUEST_FIELDS.items():
            value = body.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attributes[key] = value
        if "response_format" in body:
            attributes["gen_ai.output.type"] = "json"
        elif name == "chat":
            attributes["gen_ai.output.type"] = "text"
    return attributes


def response_attributes(completion: ChatCompletion) -> Attributes:
    """The span attributes of an answer: id, model, finish reasons, token counts."""
    attributes: Attributes = {}
    if completion.id is not None:
        attributes["gen_ai.response.id"] = completion.id
    model = completion.extra_fields.get("model")
    if isinstance(model, str):
        attributes["gen_ai.response.model"] = model
    reason = completion.stop_reason
    if reason is not None:
        attributes["gen_ai.response.finish_reasons"] = (reason,)
    usage = completion.usage
    if usage.prompt_tokens is not None:
        attributes["gen_ai.usage.input_tokens"] = int(usage.prompt_tokens)
    if usage.completion_tokens is not None:
        attributes["gen_ai.usage.output_tokens"] = int(usage.completion_tokens)
    return attributes


def input_messages(body: Any) -> str | None:
    """``gen_ai.input.messages``: the request's messages as the conventions' JSON, or ``None``.

    System messages stay in the list, in their place: they are part of the
    chat history the API receives.
    """
    if not isinstance(body, Mapping):
        return None
    messages = body.get("messages")
    if not isinstance(messages, Sequence):
        return None
    converted = [_message(message) for message in messages if isinstance(message, Mapping)]
    return json.dumps(converted, ensure_ascii=False)


def output_messages(completion: ChatCompletion) -> str:
    """``gen_ai.output.messages``: the answer as the conventions' JSON."""
    message = completion.completion_message.to_dict()
    converted = _message(message)
    converted["finish_reason"] = completion.stop_reason or ""
    return json.dumps([converted], ensure_ascii=False)


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    if role == "tool":
        parts: list[dict[str, Any]] = [
            {
                "type": "tool_call_response",
                "id": message.get("tool_call_id"),
                "response": _text(message.get("content")),
            }
        ]
    else:
        parts = _parts(message.get("content"))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": _arguments(function.get("arguments")),
            }
        )
    return {"role": role, "parts": parts}


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    items = [content] if isinstance(content, Mapping) else content
    parts: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "content": item.get("text", "")})
        elif kind == "image_url":
            url = (item.get("image_url") or {}).get("url") or ""
            if url.startswith("data:"):  # the image itself: its type only, not its bytes
                mime = url[len("data:") :].split(";", 1)[0]
                parts.append({"type": "blob", "modality": "image", "mime_type": mime})
            else:
                parts.append({"type": "uri", "modality": "image", "uri": url})
        else:
            parts.append({"type": str(kind)})
    return parts


def _text(content: Any) -> str:
    return "".join(part.get("content", "") for part in _parts(content))


def _arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments
