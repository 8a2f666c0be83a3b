"""A request's token count, estimated before it is sent.

The estimate only has to be right on average and err high: the answer's
``usage`` replaces it (`Limiter.settle`). About four characters of English make
a token; an image is counted at a flat rate, since its real cost depends on
its size, which the request does not say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

CHARS_PER_TOKEN = 4
#: Tokens counted for a reply whose request sets no ``max_completion_tokens``.
DEFAULT_COMPLETION_TOKENS = 1024
IMAGE_TOKENS = 1024
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(body: Mapping[str, Any], *, completion: bool) -> int:
    """Prompt tokens of *body*'s messages (and tools), plus the reply's if *completion*."""
    chars = 0
    tokens = 0
    messages = body.get("messages")
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        for message in messages:
            tokens += MESSAGE_OVERHEAD_TOKENS
            if not isinstance(message, Mapping):
                continue
            chars_in, images = _content_size(message.get("content"))
            chars += chars_in
            tokens += images * IMAGE_TOKENS
            for call in message.get("tool_calls") or ():
                if isinstance(call, Mapping):
                    chars += len(str(call.get("function", "")))
    tools = body.get("tools")
    if tools:
        chars += len(str(tools))
    tokens += math.ceil(chars / CHARS_PER_TOKEN)
    if completion:
        limit = body.get("max_completion_tokens")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            tokens += limit
        else:
            tokens += DEFAULT_COMPLETION_TOKENS
    return max(tokens, 1)


def _content_size(content: object) -> tuple[int, int]:
    """(characters of text, number of images) in a message's content."""
    if isinstance(content, str):
        return len(content), 0
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, Sequence):
        return 0, 0
    chars = images = 0
    for part in content:
        if isinstance(part, str):
            chars += len(part)
        elif isinstance(part, Mapping):
            text = part.get("text")
            if isinstance(text, str):
                chars += len(text)
            elif part.get("type") == "image_url":
                images += 1
    return chars, images
