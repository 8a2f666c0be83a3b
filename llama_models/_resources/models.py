"""The Models API: ``GET /models`` and ``GET /models/{model}``."""

from __future__ import annotations

from collections.abc import Mapping

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

    async def list(
        self, *, timeout: float | None = None, extra_headers: Mapping[str, str] | None = None
    ) -> APIResponse[ModelList]:
        """List the models the API serves, with the HTTP status and headers.

        Args:
            timeout: seconds for the whole call, retries included; the client's
                ``timeout`` when ``None``.
            extra_headers: headers to add to this request only.
        """
        return await self._client._request(
            _LIST, ModelList, timeout=timeout, extra_headers=extra_headers
        )

    async def retrieve(
        self,
        model: str,
        *,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[Model]:
        """Fetch one model by id, with the HTTP status and headers.

        Args:
            model: the model id, such as ``"Llama-3.3-70B-Instruct"``. It is sent
                percent-encoded as one path segment; ``""``, ``"."`` and ``".."``
                are refused before any request.
            timeout: seconds for the whole call, retries included.
            extra_headers: headers to add to this request only.
        """
        return await self._client._request(
            _retrieve(model), Model, timeout=timeout, extra_headers=extra_headers
        )


class AsyncModels:
    """The models the Llama API serves: ``client.models``.

    Attributes:
        with_response: the same methods, returning an `APIResponse` that carries
            the status code, headers, request id and rate-limit information.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.with_response = AsyncModelsWithResponse(client)

    async def list(
        self, *, timeout: float | None = None, extra_headers: Mapping[str, str] | None = None
    ) -> ModelList:
        """List the models the API serves.

        Returns a `ModelList`, which iterates over `Model` objects.

        Args:
            timeout: seconds for the whole call, retries included; the client's
                ``timeout`` when ``None``.
            extra_headers: headers to add to this request only.
        """
        response = await self._client._request(
            _LIST, ModelList, timeout=timeout, extra_headers=extra_headers
        )
        return response.data

    async def retrieve(
        self,
        model: str,
        *,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Model:
        """Fetch one model by id.

        Raises `NotFoundError` when the API does not serve that model.

        Args:
            model: the model id, such as ``"Llama-3.3-70B-Instruct"``. It is sent
                percent-encoded as one path segment; ``""``, ``"."`` and ``".."``
                are refused before any request.
            timeout: seconds for the whole call, retries included.
            extra_headers: headers to add to this request only.
        """
        response = await self._client._request(
            _retrieve(model), Model, timeout=timeout, extra_headers=extra_headers
        )
        return response.data
