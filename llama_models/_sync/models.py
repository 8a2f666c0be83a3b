"""Blocking mirrors of the Models API (`llama_models._resources.models`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._options import RequestOptions, Unpack
from .._resources.models import AsyncModels, AsyncModelsWithResponse
from ..types.models import Model, ModelList
from ..types.response import APIResponse
from ._twin import twin

if TYPE_CHECKING:
    from .._portal import Portal

__all__ = ["Models", "ModelsWithResponse"]


class ModelsWithResponse:
    """The `Models` methods, returning the parsed result with its HTTP response."""

    def __init__(self, portal: Portal, inner: AsyncModelsWithResponse) -> None:
        self._portal = portal
        self._inner = inner

    @twin(AsyncModelsWithResponse.list)
    def list(self, **options: Unpack[RequestOptions]) -> APIResponse[ModelList]:
        return self._portal.call(self._inner.list, **options)

    @twin(AsyncModelsWithResponse.retrieve)
    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> APIResponse[Model]:
        return self._portal.call(self._inner.retrieve, model, **options)


class Models:
    """The models the Llama API serves: ``client.models``.

    Attributes:
        with_response: the same methods, returning an `APIResponse` that carries
            the status code, headers, raw body, request id and rate-limit information.
    """

    def __init__(self, portal: Portal, inner: AsyncModels) -> None:
        self._portal = portal
        self._inner = inner
        self.with_response = ModelsWithResponse(portal, inner.with_response)

    @twin(AsyncModels.list)
    def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        return self._portal.call(self._inner.list, **options)

    @twin(AsyncModels.retrieve)
    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        return self._portal.call(self._inner.retrieve, model, **options)
