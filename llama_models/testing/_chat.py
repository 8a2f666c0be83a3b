"""``POST /v1/chat/completions``: a scripted or default reply, whole or streamed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ._completion import Completion, prompt_tokens
from ._defaults import default_reply
from ._limiter import TITLE
from ._stream import misplaced_fault_detail, stream_completion
from ._validation import InvalidRequest, validate_chat

if TYPE_CHECKING:
    from aiohttp import web

    from ._routes import Call

__all__ = ["create_chat_completion"]


async def create_chat_completion(call: Call) -> web.StreamResponse:
    """Validate the request, then answer with the next queued reply or the default one.

    Rejected requests (400, 404, 429) and requests that drew a misplaced stream fault
    (500) leave the reply queue untouched. The rate limiter admits the request with its
    prompt tokens (or answers 429), then counts the tokens of the reply.
    """
    request = call.request
    try:
        chat = validate_chat(request.headers, await request.read())
    except InvalidRequest as exc:
        return call.error(400, "Bad request", exc.detail)
    model = chat["model"]
    if model not in call.models.by_id:
        return call.error(404, "Not found", f"Model {model} not found")
    streaming = chat.get("stream", False)
    if call.stream_fault is not None and not streaming:
        return call.error(500, "Internal Server Error", misplaced_fault_detail(call.stream_fault))
    prompt = prompt_tokens(chat["messages"])
    admission = call.limits.admit(model, prompt)
    if admission.headers:
        call = attrs.evolve(call, headers={**call.headers, **admission.headers})
    if not admission.allowed:
        return call.error(429, TITLE, admission.detail)
    reply = call.replies.pop() or default_reply(chat)
    completion = Completion.build(reply, prompt)
    call.limits.completed(model, prompt, completion.completion_tokens)
    if streaming:
        return await stream_completion(call, completion)
    return call.json(completion.json_body())
