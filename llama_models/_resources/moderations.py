"""The Moderations API: ``POST /moderations`` (Llama Guard)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._options import BodyOptions, Unpack
from .._protocol import RequestSpec
from ..types.messages import Message
from ..types.moderations import Moderation
from ..types.response import APIResponse
from ._base import Requester

__all__ = ["AsyncModerations", "AsyncModerationsWithResponse"]


def _spec(messages: object, model: object, extra_body: Mapping[str, Any] | None) -> RequestSpec:
    # loaded with the first request
    from .._chat_request import check_model, merge_extra, messages_body

    body: dict[str, Any] = {"messages": messages_body(messages)}
    if model is not None:
        body["model"] = check_model(model)
    return RequestSpec("POST", "moderations", merge_extra(body, extra_body))


class AsyncModerationsWithResponse:
    """The `AsyncModerations` methods, returning the result with its HTTP response."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        messages: Iterable[Message | Mapping[str, Any]],
        model: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> APIResponse[Moderation]:
        """Classify a conversation, with the HTTP status, headers and rate limits.

        The arguments are those of `AsyncModerations.create`.
        """
        spec = _spec(messages, model, options.get("extra_body"))
        return await self._client._request(spec, Moderation, options)


class AsyncModerations:
    """Content moderation with Llama Guard: ``client.moderations``.

    Attributes:
        with_response: `create` returning an `APIResponse` that carries the
            status code, headers, request id and rate-limit information.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.with_response = AsyncModerationsWithResponse(client)

    async def create(
        self,
        *,
        messages: Iterable[Message | Mapping[str, Any]],
        model: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> Moderation:
        """Classify a conversation against the safety categories.

        The whole conversation may be sent, system prompt and assistant turns
        included; messages are checked as for chat completions before anything
        is sent. ``moderation.flagged`` tells whether anything was flagged and
        ``moderation.flagged_categories`` which categories apply.

        Args:
            messages: the conversation, as message objects or dicts.
            model: the safety model; the API's default (``"Llama-Guard"``)
                when ``None``.
            **options: the per-call options (see `BodyOptions`): ``timeout``,
                ``max_retries``, ``extra_headers``, ``extra_query``, ``extra_body``.
        """
        spec = _spec(messages, model, options.get("extra_body"))
        response = await self._client._request(spec, Moderation, options)
        return response.data
