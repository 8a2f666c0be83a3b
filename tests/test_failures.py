"""Failures become typed errors: bad statuses, bad bodies, broken connections, TLS."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from llama_models import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncLlamaClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    LlamaError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from llama_models._converter import Codec, make_converter
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

LIST_BODY = {
    "object": "list",
    "data": [{"id": "m", "created": 1, "object": "model", "owned_by": "x"}],
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (418, APIStatusError),
        (500, InternalServerError),
    ],
)
async def test_error_statuses_raise_their_class(
    server: FakeLlamaAPI, status: int, cls: type[APIStatusError]
) -> None:
    """Every error status raises its own APIStatusError subclass with the server's message."""
    server.enqueue(Fault.error(status, "it went wrong", headers={"x-request-id": "req_42"}))
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=0
    ) as llama:
        with pytest.raises(cls) as caught:
            await llama.models.list()
    error = caught.value
    assert type(error) is cls
    assert (error.status_code, error.message, error.request_id) == (
        status,
        "it went wrong",
        "req_42",
    )
    assert error.body == {"title": error.body["title"], "detail": "it went wrong", "status": status}  # type: ignore[index]
    assert error.headers["x-request-id"] == "req_42"
    assert isinstance(error, APIError)
    assert isinstance(error, LlamaError)


async def test_non_json_error_body_is_kept_as_text(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An HTML error page becomes the message and a bounded text body."""
    server.enqueue(
        Fault.respond(403, body="<html>Forbidden by proxy</html>", content_type="text/html")
    )
    with pytest.raises(PermissionDeniedError) as caught:
        await client.models.list()
    assert caught.value.body == "<html>Forbidden by proxy</html>"
    assert caught.value.message == "<html>Forbidden by proxy</html>"


async def test_malformed_json_raises_validation_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 200 whose body is not JSON raises APIResponseValidationError caused by the decode error."""
    server.enqueue(Fault.malformed())
    with pytest.raises(APIResponseValidationError, match="not valid JSON") as caught:
        await client.models.list()
    error = caught.value
    assert error.status_code == 200
    assert isinstance(error.body, str)
    assert error.body.startswith('{"object"')
    assert isinstance(error.__cause__, json.JSONDecodeError)


@pytest.mark.parametrize("codec", ["json", "orjson"])
async def test_wrong_shape_raises_validation_error_naming_the_field(
    server: FakeLlamaAPI, codec: Codec
) -> None:
    """JSON of the wrong shape names the missing or mistyped field, with either codec."""
    server.enqueue(
        Fault.respond(200, json={"object": "list", "data": [{"id": "m", "created": "soon"}]})
    )
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, converter=make_converter(codec=codec)
    ) as client:
        with pytest.raises(APIResponseValidationError, match=r"ModelList.*created") as caught:
            await client.models.list()
    assert caught.value.body == {"object": "list", "data": [{"id": "m", "created": "soon"}]}
    assert caught.value.__cause__ is not None


async def test_non_object_json_raises_validation_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A JSON array where an object was expected is a validation error, not a crash."""
    server.enqueue(Fault.respond(200, json=[1, 2, 3]))
    with pytest.raises(APIResponseValidationError, match="ModelList"):
        await client.models.list()


async def test_strict_converter_rejects_unknown_keys(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """In this test suite unknown keys fail, so the fake server cannot drift from the classes."""
    server.enqueue(Fault.respond(200, json={**LIST_BODY, "surprise": 1}))
    with pytest.raises(APIResponseValidationError, match="surprise"):
        await client.models.list()


async def test_the_default_converter_keeps_unknown_keys(server: FakeLlamaAPI) -> None:
    """A newer server's extra keys are kept, outside the test suite's strict converter."""
    server.enqueue(Fault.respond(200, json={**LIST_BODY, "surprise": 1}))
    async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        models = await client.models.list()
    assert models.ids == ["m"]
    assert models.extra_fields == {"surprise": 1}
    assert models.to_dict() == {**LIST_BODY, "surprise": 1}


async def test_dropped_connection_raises_connection_error(server: FakeLlamaAPI) -> None:
    """A connection closed without an answer raises APIConnectionError caused by aiohttp's error.

    aiohttp itself resends an idempotent request once at once when the connection
    closes before any answer (RFC 9112, section 9.3.1), so a GET needs two drops.
    """
    server.enqueue(Fault.drop(), Fault.drop())
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=0
    ) as llama:
        with pytest.raises(APIConnectionError) as caught:
            await llama.models.list()
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)
    assert len(server.requests) == 2


async def test_connection_cut_mid_body_raises_connection_error(server: FakeLlamaAPI) -> None:
    """A body cut short raises APIConnectionError, not a JSON error."""
    server.enqueue(Fault.drop_mid_body())
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=0
    ) as llama:
        with pytest.raises(APIConnectionError):
            await llama.models.list()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_refused_connection_raises_connection_error() -> None:
    """Nobody listening raises APIConnectionError that says it could not connect."""
    base_url = f"http://127.0.0.1:{_unused_port()}/v1"
    async with AsyncLlamaClient(api_key="k", base_url=base_url, max_retries=0) as llama:
        with pytest.raises(APIConnectionError, match="cannot connect") as caught:
            await llama.models.list()
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)


async def test_response_larger_than_the_cap_is_refused(server: FakeLlamaAPI) -> None:
    """A body over max_response_bytes raises instead of being read into memory."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_response_bytes=100
    ) as llama:
        with pytest.raises(APIResponseValidationError, match="max_response_bytes"):
            await llama.models.list()
        assert len(server.requests) == 1
        model = await llama.models.retrieve("Llama-3.3-8B-Instruct")
    assert model.id == "Llama-3.3-8B-Instruct"


@pytest.fixture
async def chunked_server() -> AsyncIterator[str]:
    """A server that answers with chunked transfer encoding (no Content-Length)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        body = json.dumps(LIST_BODY).encode()
        for start in range(0, len(body), 16):
            await response.write(body[start : start + 16])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/v1/models", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


async def test_chunked_bodies_are_read_and_capped(chunked_server: str) -> None:
    """A body without Content-Length is read in full, and still capped."""
    async with AsyncLlamaClient(api_key="k", base_url=chunked_server) as llama:
        assert (await llama.models.list()).ids == ["m"]
    async with AsyncLlamaClient(
        api_key="k", base_url=chunked_server, max_response_bytes=40
    ) as llama:
        with pytest.raises(APIResponseValidationError, match="max_response_bytes"):
            await llama.models.list()


async def test_untrusted_certificate_fails_without_retry(
    tls_fake: tuple[FakeLlamaAPI, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A TLS certificate failure is a connection error that is never retried."""
    fake, tls_server = tls_fake
    async with AsyncLlamaClient(api_key="test-key", base_url=tls_server, max_retries=2) as llama:
        with pytest.raises(APIConnectionError, match="TLS") as caught:
            await llama.models.list()
    assert isinstance(caught.value.__cause__, aiohttp.ClientSSLError)
    assert "retrying" not in caplog.text
    assert fake.requests == []


async def test_caller_session_can_trust_a_private_ca(
    tls_fake: tuple[FakeLlamaAPI, str], certificate_authority: trustme.CA
) -> None:
    """A caller-owned aiohttp session carries its own TLS settings, and stays open."""
    _, tls_server = tls_fake
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        async with AsyncLlamaClient(
            api_key="test-key", base_url=tls_server, http_session=session
        ) as llama:
            models = await llama.models.list()
        assert len(models) == 4
        assert not session.closed


async def test_json_with_a_byte_order_mark_is_read(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A UTF-8 body that starts with a byte-order mark still decodes."""
    server.enqueue(
        Fault.respond(
            200,
            body=b"\xef\xbb\xbf" + json.dumps(LIST_BODY).encode(),
            content_type="application/json",
        )
    )
    assert (await client.models.list()).ids == ["m"]


async def test_body_that_is_not_utf8_is_a_validation_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """Bytes that are not UTF-8 raise APIResponseValidationError, not UnicodeDecodeError."""
    server.enqueue(Fault.respond(200, body=b'{"object": "\xff"}', content_type="application/json"))
    with pytest.raises(APIResponseValidationError, match="not valid JSON"):
        await client.models.list()


async def test_caller_session_that_aiohttp_refuses_to_use_is_a_clear_error(
    server: FakeLlamaAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller session with trust_env and a ~/.netrc entry for the host fails with a typed error.

    aiohttp 3.12 and later refuse to combine the two (a local error, not retried); older
    versions send the ~/.netrc credentials instead of the key, and the server says 401.
    """
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    async with (
        aiohttp.ClientSession(trust_env=True) as session,
        AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, http_session=session
        ) as llama,
    ):
        with pytest.raises((APIConnectionError, AuthenticationError)) as caught:
            await llama.models.list()
    if isinstance(caught.value, APIConnectionError):
        assert "refused to send" in caught.value.message
        assert isinstance(caught.value.__cause__, ValueError)
    assert len(server.requests) <= 1
