"""Structured output into the caller's own classes: the schema sent, the reply structured.

``chat.completions.parse(response_format=Invoice, ...)`` sends the JSON Schema of
``Invoice`` (`json_schema`) as a ``json_schema`` response format, and structures the
reply with the client's converter. A reply that does not fit raises
`StructuredOutputError` with every failing place; one cut off at
``max_completion_tokens`` says so instead of reporting broken JSON.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs

from ._converter import StructureError, structure
from .errors import InvalidArgumentError, StructuredOutputError
from .types.chat import ChatCompletion, ParsedChatCompletion
from .types.messages import _JSON_KINDS, JsonSchemaFormat, StopReason

T = TypeVar("T")

__all__ = ["parse_completion", "response_format_for"]

_STOP, _TOOL_CALLS, _LENGTH = typing.get_args(StopReason)


def response_format_for(cls: type[Any]) -> JsonSchemaFormat:
    """The response format that asks for JSON fitting *cls*, an attrs class or a dataclass."""
    if not isinstance(cls, type) or not (attrs.has(cls) or dataclasses.is_dataclass(cls)):
        raise InvalidArgumentError(
            "response_format must be an attrs class or a dataclass for parse(), not "
            f"{cls!r}; for a schema of your own use create(response_format=JsonSchemaFormat(...))"
        )
    from ._schema import json_schema, schema_name

    try:
        schema = json_schema(cls)
    except TypeError as exc:
        raise InvalidArgumentError(f"response_format: {exc}") from exc
    return JsonSchemaFormat(schema_name(cls), schema)


def parse_completion(
    completion: ChatCompletion,
    cls: type[T],
    converter: cattrs.Converter,
    loads: Callable[[str], Any],
) -> ParsedChatCompletion[T]:
    """*completion* with its reply structured as *cls*.

    Raises:
        StructuredOutputError: the reply was cut off, is not JSON, or does not fit.
    """
    text = completion.text
    stop_reason = completion.stop_reason
    name = cls.__name__
    if stop_reason == _LENGTH:
        raise StructuredOutputError(
            f"the reply was cut off at max_completion_tokens before the {name} was complete "
            f"({len(text)} characters); allow more tokens",
            text=text,
            stop_reason=stop_reason,
        )
    try:
        data = loads(text)
    except ValueError as exc:
        raise StructuredOutputError(
            f"the reply is not valid JSON ({exc}), so it is no {name}: {_shown(text)!r}",
            text=text,
            errors=[str(exc)],
            stop_reason=stop_reason,
        ) from None
    if not isinstance(data, dict):
        # cattrs would blame every field of the class, as if each had the wrong type.
        kind = _JSON_KINDS.get(type(data), "null")
        raise StructuredOutputError(
            f"the reply is {kind}, not a JSON object, so it is no {name}: {_shown(text)!r}",
            text=text,
            errors=[f"expected a JSON object, got {kind} @ {name}"],
            stop_reason=stop_reason,
        )
    try:
        parsed = structure(converter, data, cls)
    except StructureError as exc:
        raise StructuredOutputError(
            f"the reply does not fit {name}: {exc}",
            text=text,
            errors=exc.errors,
            stop_reason=stop_reason,
        ) from exc
    return ParsedChatCompletion(
        completion_message=completion.completion_message,
        id=completion.id,
        metrics=completion.metrics,
        parsed=parsed,
        _wire=completion._wire,
    )


def _shown(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "…"
