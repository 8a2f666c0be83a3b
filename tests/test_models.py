"""The Models API over loopback HTTP, on both clients."""

from __future__ import annotations

import gc
from datetime import datetime, timezone

import pytest

from llama_models import (
    APIResponse,
    AsyncLlamaClient,
    AuthenticationError,
    InvalidArgumentError,
    LlamaClient,
    Model,
    ModelList,
    NotFoundError,
    RateLimitInfo,
)
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio

DOC_MODELS = [
    "Llama-3.3-70B-Instruct",
    "Llama-3.3-8B-Instruct",
    "Llama-4-Scout-17B-16E-Instruct-FP8",
    "Llama-4-Maverick-17B-128E-Instruct-FP8",
]


async def test_list_returns_the_documented_models(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """models.list() returns a sized, iterable, indexable ModelList of Model."""
    models = await client.models.list()
    assert isinstance(models, ModelList)
    assert models.object == "list"
    assert len(models) == 4
    assert [m.id for m in models] == DOC_MODELS == models.ids
    assert models[0] == Model(id=DOC_MODELS[0], created=1735718400, object="model", owned_by="Meta")
    assert isinstance(models.data, tuple)
    (request,) = server.requests
    assert (request.method, request.path, request.body) == ("GET", "/v1/models", b"")
    assert request.headers["Authorization"] == f"Bearer {server.api_key}"
    assert request.headers["Accept"] == "application/json"
    assert "Content-Type" not in request.headers
    assert request.headers["User-Agent"].startswith("llama-models/")


async def test_retrieve_returns_one_model(client: AsyncLlamaClient) -> None:
    """models.retrieve(id) returns that Model, with a UTC created_at view."""
    model = await client.models.retrieve("Llama-4-Scout-17B-16E-Instruct-FP8")
    assert model.id == "Llama-4-Scout-17B-16E-Instruct-FP8"
    assert model.created_at == datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)


async def test_retrieve_sends_the_id_as_one_encoded_segment(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An id with a slash travels as %2F inside one segment and is found by the server."""
    server.set_models([{"id": "org/model-x", "created": 1, "object": "model", "owned_by": "org"}])
    model = await client.models.retrieve("org/model-x")
    assert model.owned_by == "org"
    assert server.requests[-1].path == "/v1/models/org%2Fmodel-x"


@pytest.mark.parametrize("bad", ["", ".", ".."])
async def test_retrieve_refuses_bad_ids_before_any_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI, bad: str
) -> None:
    """ "", "." and ".." fail locally and nothing is sent."""
    with pytest.raises(InvalidArgumentError):
        await client.models.retrieve(bad)
    assert server.requests == []


async def test_unknown_model_raises_not_found(client: AsyncLlamaClient) -> None:
    """An unknown id raises NotFoundError with the server's message and JSON body."""
    with pytest.raises(NotFoundError) as caught:
        await client.models.retrieve("nope")
    error = caught.value
    assert error.status_code == 404
    assert error.message == "Model nope not found"
    assert error.body == {"title": "Not found", "detail": "Model nope not found", "status": 404}
    assert error.headers["Content-Type"].startswith("application/json")
    assert error.method == "GET"
    assert error.url is not None
    assert error.url.endswith("/v1/models/nope")


async def test_wrong_key_raises_authentication_error(server: FakeLlamaAPI) -> None:
    """A key the server does not know raises AuthenticationError (401)."""
    async with AsyncLlamaClient(api_key="wrong-key", base_url=server.base_url) as llama:
        with pytest.raises(AuthenticationError) as caught:
            await llama.models.list()
    assert caught.value.status_code == 401
    assert caught.value.message == "Invalid API key"


async def test_with_response_exposes_status_headers_and_rate_limits(
    client: AsyncLlamaClient,
) -> None:
    """with_response returns the parsed data with status, headers and parsed rate limits."""
    response = await client.models.with_response.list()
    assert isinstance(response, APIResponse)
    assert isinstance(response.data, ModelList)
    assert response.status_code == 200
    assert response.retries == 0
    assert response.request_id is None
    assert isinstance(response.rate_limit, RateLimitInfo)
    assert response.rate_limit.limit_requests == 3000
    assert response.headers["x-ratelimit-limit-tokens"] == "2500000"
    single = await client.models.with_response.retrieve(DOC_MODELS[1])
    assert single.data.id == DOC_MODELS[1]


async def test_request_id_is_surfaced_when_the_server_sends_one() -> None:
    """A server that sends x-request-id has it on responses and errors."""
    async with (
        FakeLlamaAPI(send_request_id=True) as fake,
        AsyncLlamaClient(api_key=fake.api_key, base_url=fake.base_url) as llama,
    ):
        response = await llama.models.with_response.list()
        assert response.request_id is not None
        assert response.request_id.startswith("req_")
        with pytest.raises(NotFoundError) as caught:
            await llama.models.retrieve("nope")
        assert caught.value.request_id is not None
        assert caught.value.request_id in str(caught.value)


async def test_per_call_headers_are_sent(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """extra_headers add to the client's default headers for one call."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, default_headers={"X-Team": "a"}
    ) as llama:
        await llama.models.list(extra_headers={"X-Trace": "t1"})
        await llama.models.list()
    first, second = server.requests
    assert (first.headers["X-Team"], first.headers["X-Trace"]) == ("a", "t1")
    assert "X-Trace" not in second.headers


async def test_bad_per_call_arguments_fail_before_any_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A bad per-call header or timeout is refused locally."""
    with pytest.raises(InvalidArgumentError, match="extra_headers"):
        await client.models.list(extra_headers={"X-Evil": "a\r\nb"})
    with pytest.raises(InvalidArgumentError, match="timeout"):
        await client.models.list(timeout=-1)
    assert server.requests == []


def test_blocking_client_lists_and_retrieves(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """LlamaClient returns the same typed results as the async client."""
    models = sync_client.models.list()
    assert models.ids == DOC_MODELS
    assert sync_client.models.retrieve(DOC_MODELS[2]).id == DOC_MODELS[2]
    response = sync_client.models.with_response.retrieve(DOC_MODELS[3])
    assert response.status_code == 200
    assert response.data.owned_by == "Meta"
    assert sync_client.models.with_response.list().data == models
    with pytest.raises(NotFoundError):
        sync_client.models.retrieve("nope")
    with pytest.raises(InvalidArgumentError):
        sync_client.models.retrieve("..")
    assert len(threaded_server.requests) == 5


async def test_large_lists_are_decoded_with_the_collector_paused_and_restored(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A list over 256 KiB decodes fully, and the garbage collector's state is left as found."""
    server.add_synthetic_models(4000)
    models = await client.models.list()
    assert len(models) == 4004
    assert models[-1].id == "synthetic-model-04000"
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(await client.models.list()) == 4004
        assert not gc.isenabled()
    finally:
        gc.enable()
