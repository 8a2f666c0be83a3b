"""``POST /v1/chat/completions``: a scripted or default reply, whole or streamed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._completion import Completion
from ._defaults import default_reply
from ._stream import misplaced_fault_detail, stream_completion
from ._validation import InvalidRequest, validate_chat

if TYPE_CHECKING:
    from aiohttp import web

    from ._routes import Call

__all__ = ["create_chat_completion"]


async def create_chat_completion(call: Call) -> web.StreamResponse:
    """Validate the request, then answer with the next queued reply or the default one.

    Rejected requests (400, 404) and requests that drew a misplaced stream fault (500)
    leave the reply queue untouched. The tokens of every answer count against the
    rate-limit window.
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
    reply = call.replies.pop() or default_reply(chat)
    completion = Completion.build(reply, chat["messages"])
    call.window.tokens += completion.total_tokens
    if streaming:
        return await stream_completion(call, completion)
    return call.json(completion.json_body())
