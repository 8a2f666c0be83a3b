"""client.get / client.post for endpoints the SDK does not wrap, and the raw body of with_response."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import anyio
import pytest

from llama_models import (
    APIResponse,
    AsyncLlamaClient,
    InvalidArgumentError,
    LlamaClient,
    Model,
    ModelList,
    NotFoundError,
)
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

HELLO = [{"role": "user", "content": "Hello"}]


@dataclasses.dataclass
class Owned:
    id: str
    owned_by: str


async def test_get_structures_into_what_cast_to_names(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """cast_to may be an attrs class, a dataclass, dict, or bytes for the body as sent."""
    models = await client.get("models", cast_to=ModelList)
    assert isinstance(models, ModelList)
    model_id = models[0].id
    assert (await client.get(f"/models/{model_id}", cast_to=Model)).id == model_id
    owned = await client.get(f"models/{model_id}", cast_to=Owned)
    assert owned == Owned(id=model_id, owned_by=models[0].owned_by)
    as_dict = await client.get("models", cast_to=dict)
    assert as_dict["data"][0]["id"] == model_id
    raw = await client.get("models", cast_to=bytes, extra_query={"v": "1"})
    assert raw.startswith(b"{")
    assert [request.path for request in server.requests] == [
        "/v1/models",
        f"/v1/models/{model_id}",
        f"/v1/models/{model_id}",
        "/v1/models",
        "/v1/models",
    ]
    assert server.requests[-1].query == "v=1"


async def test_post_sends_a_json_body_through_the_transport(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """post() sends *body* (with extra_body added) as JSON, with the client's headers."""
    answer = await client.post(
        "moderations",
        body={"messages": HELLO},
        extra_body={"model": "Llama-Guard"},
        extra_headers={"X-Trace": "p"},
        cast_to=dict,
    )
    assert "results" in answer
    (sent,) = server.requests
    assert sent.json() == {"messages": HELLO, "model": "Llama-Guard"}
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["X-Trace"] == "p"
    assert sent.headers["Authorization"] == f"Bearer {server.api_key}"


async def test_custom_requests_get_the_same_errors_and_retries(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A custom GET is retried on a 503 and maps a 404 to NotFoundError, as every call."""
    server.enqueue(Fault.error(503), path="/v1/models")
    assert len(await client.get("models", cast_to=ModelList)) == 4
    with pytest.raises(NotFoundError):
        await client.get("no-such-endpoint", cast_to=dict)


@pytest.mark.parametrize(
    "path",
    [
        "../admin",
        "models/../../admin",
        "%2e%2E/admin",
        "models/%2e%2e%2fadmin",
        "https://evil.example/v1/models",
        "//evil.example/models",
        "models?limit=1",
        "models#top",
        "models\\..\\admin",
        "models list",
    ],
)
async def test_a_path_that_could_leave_base_url_is_refused(
    client: AsyncLlamaClient, server: FakeLlamaAPI, path: str
) -> None:
    """get() refuses a path that could reach outside base_url, before any request."""
    with pytest.raises(InvalidArgumentError, match="path"):
        await client.get(path, cast_to=dict)
    assert server.requests == []


async def test_a_post_body_must_be_a_dict(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """post() refuses a body that is not a mapping, before any request."""
    with pytest.raises(InvalidArgumentError, match="body must be a dict"):
        await client.post("moderations", body=[1, 2], cast_to=dict)  # type: ignore[arg-type]
    assert server.requests == []


def test_the_blocking_client_has_get_and_post(sync_client: LlamaClient) -> None:
    """get() and post() work the same on the blocking client."""
    models = sync_client.get("models", cast_to=ModelList)
    assert len(models) == 4
    answer: dict[str, Any] = sync_client.post("moderations", body={"messages": HELLO}, cast_to=dict)
    assert "results" in answer


async def test_with_response_keeps_the_raw_body(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """with_response gives the body as sent (content, text, json()), the final URL and elapsed."""
    listed = await client.models.with_response.list(extra_query={"a": "1"})
    assert listed.json() == {"object": "list", "data": listed.data.to_dict()["data"]}
    assert listed.text == listed.content.decode()
    assert listed.url == server.base_url + "/models?a=1"
    server.enqueue(Fault.redirect("/v1/models?moved=1"), path="/v1/models")
    redirected = await client.models.with_response.list()
    assert redirected.url == server.base_url + "/models?moved=1"
    assert isinstance(listed.elapsed, timedelta)
    assert listed.elapsed >= timedelta(0)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/plain; charset=latin-1", "caf\u00e9"),
        ('text/plain; charset="ISO-8859-1"', "caf\u00e9"),
        ("text/plain", "caf\ufffd"),
        ("text/plain; charset=no-such-codec", "caf\ufffd"),
    ],
)
def test_text_follows_the_charset_of_the_response(content_type: str, text: str) -> None:
    """text decodes the body in the charset its Content-Type names, else as UTF-8."""
    response = APIResponse(
        data=None, status_code=200, headers={"Content-Type": content_type}, content=b"caf\xe9"
    )
    assert response.text == text


async def test_the_blocking_with_response_keeps_the_raw_body(server: FakeLlamaAPI) -> None:
    """The blocking client's with_response carries the same raw body and URL."""
    with LlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        response = await anyio.to_thread.run_sync(client.models.with_response.list)
    assert response.json()["data"][0]["id"] == response.data[0].id
    assert response.url == server.base_url + "/models"
