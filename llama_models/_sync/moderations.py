"""Blocking mirrors of the Moderations API (`llama_models._resources.moderations`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._options import BodyOptions, Unpack
from .._resources.moderations import AsyncModerations, AsyncModerationsWithResponse
from ..types.messages import Message
from ..types.moderations import Moderation
from ..types.response import APIResponse
from ._twin import twin

if TYPE_CHECKING:
    from .._portal import Portal

__all__ = ["Moderations", "ModerationsWithResponse"]


class ModerationsWithResponse:
    """The `Moderations` methods, returning the result with its HTTP response."""

    def __init__(self, portal: Portal, inner: AsyncModerationsWithResponse) -> None:
        self._portal = portal
        self._inner = inner

    @twin(AsyncModerationsWithResponse.create)
    def create(
        self,
        *,
        messages: Iterable[Message | Mapping[str, Any]],
        model: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> APIResponse[Moderation]:
        return self._portal.call(
            self._inner.create,
            messages=messages,
            model=model,
            **options,
        )


class Moderations:
    """Content moderation with Llama Guard: ``client.moderations``.

    Attributes:
        with_response: `create` returning an `APIResponse` that carries the
            status code, headers, request id and rate-limit information.
    """

    def __init__(self, portal: Portal, inner: AsyncModerations) -> None:
        self._portal = portal
        self._inner = inner
        self.with_response = ModerationsWithResponse(portal, inner.with_response)

    @twin(AsyncModerations.create)
    def create(
        self,
        *,
        messages: Iterable[Message | Mapping[str, Any]],
        model: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> Moderation:
        return self._portal.call(
            self._inner.create,
            messages=messages,
            model=model,
            **options,
        )
