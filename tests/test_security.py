"""Secrets stay secret, bodies stay out of logs, redirects never leak the key or a body."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator

import pytest

from llama_models import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncLlamaClient,
    AuthenticationError,
    LlamaClient,
    LlamaError,
    ModelList,
)
from llama_models._protocol import RequestSpec
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

SECRET = "LLM|1234567890|very-secret-key-material"
WRONG = "LLM|1|a-wrong-but-still-secret-key"  # module-level: tracebacks show only frame locals
LIST_BODY = {
    "object": "list",
    "data": [{"id": "m", "created": 1, "object": "model", "owned_by": "x"}],
}


@pytest.fixture
async def secret_server() -> AsyncIterator[FakeLlamaAPI]:
    """A fake server that accepts the secret key."""
    async with FakeLlamaAPI(api_key=SECRET, send_request_id=True) as fake:
        yield fake


def _everything_said_about(error: BaseException) -> str:
    """Every text a user, a log or a debugger could see about an error and its causes.

    ``capture_locals`` renders every local of every frame, as ``pytest --showlocals``
    and error trackers do.
    """
    texts = [
        "".join(traceback.format_exception(error)),
        "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format()),
    ]
    cause: BaseException | None = error
    while cause is not None:
        texts += [str(cause), repr(cause), repr(vars(cause)) if hasattr(cause, "__dict__") else ""]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(texts)


async def test_the_key_never_appears_in_errors_or_logs(
    secret_server: FakeLlamaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Across many failures, no message, repr, traceback or DEBUG log line contains the key."""
    caplog.set_level(logging.DEBUG)
    secret_server.enqueue(
        Fault.error(500, headers={"retry-after-ms": "1"}),
        Fault.drop(),
        Fault.drop(),
        Fault.malformed(),
        Fault.error(418),
        Fault.rate_limited(retry_after="600"),
        Fault.stall(),
    )
    said: list[str] = []
    async with AsyncLlamaClient(
        api_key=SECRET, base_url=secret_server.base_url, max_retries=0, log_bodies=True
    ) as llama:
        said.append(repr(llama) + str(llama) + repr(vars(llama)))
        for _ in range(5):
            with pytest.raises(APIError) as caught:
                await llama.models.list()
            said.append(_everything_said_about(caught.value))
        with pytest.raises(APIError) as caught:
            await llama.models.list(timeout=0.1)
        said.append(_everything_said_about(caught.value))
        with pytest.raises(LlamaError) as caught_local:
            await llama.models.retrieve("..")
        said.append(_everything_said_about(caught_local.value))
    said.append(caplog.text)
    said.append(repr(llama._config))
    assert "DEBUG" in caplog.text
    for text in said:
        assert SECRET not in text
        assert "very-secret" not in text


async def test_a_refused_key_is_not_echoed(secret_server: FakeLlamaAPI) -> None:
    """A wrong key is not repeated in the 401 error."""
    async with AsyncLlamaClient(api_key=WRONG, base_url=secret_server.base_url) as llama:
        with pytest.raises(AuthenticationError) as caught:
            await llama.models.list()
    assert WRONG not in _everything_said_about(caught.value)


def test_blocking_client_repr_hides_the_key() -> None:
    """The blocking client's repr shows settings but not the key."""
    with LlamaClient(api_key=SECRET) as llama:
        assert SECRET not in repr(llama) + repr(vars(llama))


async def _post(client: AsyncLlamaClient, payload: object) -> ModelList:
    response = await client._request(RequestSpec("POST", "models", json=payload), ModelList, {})
    return response.data


async def test_bodies_are_logged_only_when_asked(
    server: FakeLlamaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Request and response bodies stay out of the log unless log_bodies=True."""
    caplog.set_level(logging.DEBUG, logger="llama_models")
    for log_bodies in (False, True):
        server.enqueue(Fault.respond(200, json={**LIST_BODY, "object": "list-marker"}))
        async with AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, log_bodies=log_bodies
        ) as llama:
            await _post(llama, {"prompt": "personal-data-marker"})
        logged = caplog.text
        caplog.clear()
        assert ("personal-data-marker" in logged) is log_bodies
        assert ("list-marker" in logged) is log_bodies
        assert "POST" in logged


async def test_same_origin_redirect_is_followed(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 307 to the same origin is followed with the same method and key."""
    server.enqueue(Fault.redirect("/v1/models"), path="/v1/old-models")
    models = await client._request(RequestSpec("GET", "old-models"), ModelList, {})
    assert len(models.data) == 4
    first, second = server.requests
    assert second.path == "/v1/models"
    assert second.headers["Authorization"] == first.headers["Authorization"]


async def test_post_redirect_keeps_its_body_on_the_same_origin(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 307 keeps a POST's body when it stays on the same origin."""
    server.enqueue(Fault.redirect(server.base_url + "/other"), Fault.respond(200, json=LIST_BODY))
    await _post(client, {"n": 1})
    _, second = server.requests
    assert (second.method, second.path, second.json()) == ("POST", "/v1/other", {"n": 1})


async def test_see_other_turns_a_post_into_a_get(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 303 is followed with a GET and no body."""
    server.enqueue(Fault.redirect("/v1/models", status=303))
    await _post(client, {"n": 1})
    second = server.requests[1]
    assert (second.method, second.body) == ("GET", b"")
    assert "Content-Type" not in second.headers


async def test_cross_origin_redirect_drops_the_key(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A GET redirected to another origin is sent there without the Authorization header."""
    async with FakeLlamaAPI(api_key=server.api_key) as elsewhere:
        server.enqueue(Fault.redirect(elsewhere.base_url + "/models"))
        with pytest.raises(AuthenticationError):
            await client.models.list()
        (arrived,) = elsewhere.requests
    assert "Authorization" not in arrived.headers


async def test_cross_origin_redirect_never_carries_a_body(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A POST redirected with 307 to another origin is refused, and nothing is sent there."""
    async with FakeLlamaAPI(api_key=server.api_key) as elsewhere:
        server.enqueue(Fault.redirect(elsewhere.base_url + "/models"))
        with pytest.raises(APIStatusError, match="another origin") as caught:
            await _post(client, {"secret": "body"})
        assert elsewhere.requests == []
    assert caught.value.status_code == 307


async def test_redirect_away_from_https_is_refused(
    tls_fake: tuple[FakeLlamaAPI, str], certificate_authority: object
) -> None:
    """A redirect from https to plain http is refused."""
    import ssl

    import aiohttp

    fake, url = tls_fake
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)  # type: ignore[attr-defined]
    fake.enqueue(Fault.redirect("http://127.0.0.1:9/v1/models"))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        AsyncLlamaClient(api_key=fake.api_key, base_url=url, http_session=session) as llama,
    ):
        with pytest.raises(APIStatusError, match="leaves https"):
            await llama.models.list()


async def test_redirect_to_another_scheme_is_refused(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A redirect to a non-http URL is refused."""
    server.enqueue(Fault.redirect("ftp://127.0.0.1/v1/models"))
    with pytest.raises(APIStatusError, match="not an http"):
        await client.models.list()


async def test_redirect_loops_end(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """More than five redirects in one attempt fail with a connection error."""
    server.enqueue(*[Fault.redirect("/v1/models")] * 6)
    with pytest.raises(APIConnectionError, match="more than 5 redirects"):
        await client.models.list()
    assert len(server.requests) == 6


async def test_redirect_without_location_is_an_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A 3xx without Location is an APIStatusError."""
    server.enqueue(Fault.respond(302, body=b""))
    with pytest.raises(APIStatusError) as caught:
        await client.models.list()
    assert caught.value.status_code == 302
