"""The Models API: ``GET /models`` and ``GET /models/{model}``."""

from __future__ import annotations

from .._options import RequestOptions, Unpack
from .._protocol import RequestSpec, path_segment
from ..types.models import Model, ModelList
from ..types.response import APIResponse
from ._base import Requester

__all__ = ["AsyncModels", "AsyncModelsWithResponse"]

_LIST = RequestSpec("GET", "models")


def _retrieve(model: str) -> RequestSpec:
    return RequestSpec("GET", "models/" + path_segment(model, "model"))


class AsyncModelsWithResponse:
    """The `AsyncModels` methods, returning the parsed result with its HTTP response."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def list(self, **options: Unpack[RequestOptions]) -> APIResponse[ModelList]:
        """List the models the API serves, with the HTTP status, headers and body.

        Args:
            **options: the per-call options (see `RequestOptions`): ``timeout``,
                ``max_retries``, ``extra_headers``, ``extra_query``.
        """
        return await self._client._request(_LIST, ModelList, options)

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> APIResponse[Model]:
        """Fetch one model by id, with the HTTP status, headers and body.

        Args:
            model: the model id, such as ``"Llama-3.3-70B-Instruct"``. It is sent
                percent-encoded as one path segment; ``""``, ``"."`` and ``".."``
                are refused before any request.
            **options: the per-call options (see `RequestOptions`).
        """
        return await self._client._request(_retrieve(model), Model, options)


class AsyncModels:
    """The models the Llama API serves: ``client.models``.

    Attributes:
        with_response: the same methods, returning an `APIResponse` that carries
            the status code, headers, raw body, request id and rate-limit information.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.with_response = AsyncModelsWithResponse(client)

    async def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        """List the models the API serves.

        Returns a `ModelList`, which iterates over `Model` objects.

        Args:
            **options: the per-call options (see `RequestOptions`): ``timeout``,
                ``max_retries``, ``extra_headers``, ``extra_query``.
        """
        response = await self._client._request(_LIST, ModelList, options)
        return response.data

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """Fetch one model by id.

        Raises `NotFoundError` when the API does not serve that model.

        Args:
            model: the model id, such as ``"Llama-3.3-70B-Instruct"``. It is sent
                percent-encoded as one path segment; ``""``, ``"."`` and ``".."``
                are refused before any request.
            **options: the per-call options (see `RequestOptions`).
        """
        response = await self._client._request(_retrieve(model), Model, options)
        return response.data
