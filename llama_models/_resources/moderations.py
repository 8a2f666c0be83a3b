"""The Moderations API: ``POST /moderations`` (Llama Guard)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._protocol import RequestSpec
from ..types.messages import Message
from ..types.moderations import Moderation
from ..types.response import APIResponse
from ._base import Requester

__all__ = ["AsyncModerations", "AsyncModerationsWithResponse"]


def _spec(messages: object, model: object) -> RequestSpec:
    from .._chat_request import check_model, messages_body  # loaded with the first request

    body: dict[str, Any] = {"messages": messages_body(messages)}
    if model is not None:
        body["model"] = check_model(model)
    return RequestSpec("POST", "moderations", body)


class AsyncModerationsWithResponse:
    """The `AsyncModerations` methods, returning the result with its HTTP response."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        messages: Iterable[Message | Mapping[str, Any]],
        model: str | None = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[Moderation]:
        """Classify a conversation, with the HTTP status, headers and rate limits.

        The arguments are those of `AsyncModerations.create`.
        """
        return await self._client._request(
            _spec(messages, model), Moderation, timeout=timeout, extra_headers=extra_headers
        )


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
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
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
            timeout: seconds for the whole call, retries included.
            extra_headers: headers to add to this request only.
        """
        response = await self._client._request(
            _spec(messages, model), Moderation, timeout=timeout, extra_headers=extra_headers
        )
        return response.data
