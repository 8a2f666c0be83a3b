"""The retry policy and the call deadline, observed on the wire."""

from __future__ import annotations

import email.utils
import logging
import socket
import time

import pytest

from llama_models import (
    APIConnectionError,
    APITimeoutError,
    AsyncLlamaClient,
    InternalServerError,
    ModelList,
    NotFoundError,
    RateLimitError,
)
from llama_models._protocol import RequestSpec
from llama_models._retry import MAX_SERVER_WAIT
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

QUICK = {"retry-after-ms": "1"}
LIST_BODY = {
    "object": "list",
    "data": [{"id": "m", "created": 1, "object": "model", "owned_by": "x"}],
}


def _client(server: FakeLlamaAPI, **kwargs: object) -> AsyncLlamaClient:
    return AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url, **kwargs)  # type: ignore[arg-type]


async def _post(client: AsyncLlamaClient) -> ModelList:
    """A POST through the client's transport (the Models API has no POST endpoint)."""
    response = await client._request(
        RequestSpec("POST", "models", json={"probe": True}),
        ModelList,
        {},
    )
    return response.data


async def test_get_is_retried_after_a_server_error(server: FakeLlamaAPI) -> None:
    """A 503 on a GET is retried, and the response says how many retries it took."""
    server.enqueue(Fault.error(503, headers=QUICK))
    async with _client(server) as llama:
        response = await llama.models.with_response.list()
    assert response.retries == 1
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 504])
async def test_get_retries_each_transient_status(server: FakeLlamaAPI, status: int) -> None:
    """GET retries 408, 409, 429 and 5xx."""
    server.enqueue(Fault.error(status, headers=QUICK))
    async with _client(server) as llama:
        assert len(await llama.models.list()) == 4


async def test_client_errors_are_not_retried(server: FakeLlamaAPI) -> None:
    """A 404 is final."""
    async with _client(server) as llama:
        with pytest.raises(NotFoundError):
            await llama.models.retrieve("nope")
    assert len(server.requests) == 1


async def test_retries_stop_at_max_retries(server: FakeLlamaAPI) -> None:
    """At most max_retries retries are made; the last error is raised."""
    server.enqueue(*[Fault.error(503, headers=QUICK)] * 4)
    async with _client(server, max_retries=2) as llama:
        with pytest.raises(InternalServerError):
            await llama.models.list()
    assert len(server.requests) == 3


async def test_max_retries_zero_disables_retries(server: FakeLlamaAPI) -> None:
    """max_retries=0 sends each call once."""
    server.enqueue(Fault.error(503, headers=QUICK))
    async with _client(server, max_retries=0) as llama:
        with pytest.raises(InternalServerError):
            await llama.models.list()
    assert len(server.requests) == 1


async def test_x_should_retry_false_is_obeyed(server: FakeLlamaAPI) -> None:
    """x-should-retry: false on a 500 is not retried."""
    server.enqueue(Fault.error(500, headers={"x-should-retry": "false", **QUICK}))
    async with _client(server) as llama:
        with pytest.raises(InternalServerError):
            await llama.models.list()
    assert len(server.requests) == 1


async def test_retry_after_ms_is_honoured(
    server: FakeLlamaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """retry-after-ms sets the wait before the retry."""
    caplog.set_level(logging.INFO, logger="llama_models")
    server.enqueue(Fault.rate_limited(retry_after_ms="10"))
    async with _client(server) as llama:
        await llama.models.list()
    assert "in 0.01 s (retry 1 of 2)" in caplog.text


async def test_retry_after_seconds_and_dates_are_honoured(
    server: FakeLlamaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Retry-After in seconds and as an HTTP date both set the wait."""
    caplog.set_level(logging.INFO, logger="llama_models")
    when = email.utils.formatdate(time.time() + 1.5, usegmt=True)
    server.enqueue(
        Fault.rate_limited(retry_after="0.02"), Fault.error(503, headers={"retry-after": when})
    )
    async with _client(server) as llama:
        response = await llama.models.with_response.list()
    assert response.retries == 2
    waits = [float(r.message.split(" in ")[1].split(" s ")[0]) for r in caplog.records]
    assert waits[0] == pytest.approx(0.02)
    assert 0 < waits[1] <= 1.5


async def test_long_server_wait_raises_at_once(server: FakeLlamaAPI) -> None:
    """A Retry-After beyond the cap is not slept: RateLimitError is raised at once."""
    server.enqueue(Fault.rate_limited(retry_after=str(int(MAX_SERVER_WAIT) + 60)))
    async with _client(server) as llama:
        with pytest.raises(RateLimitError) as caught:
            await llama.models.list()
    assert caught.value.retry_after == MAX_SERVER_WAIT + 60
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.remaining_requests == 0
    assert len(server.requests) == 1


async def test_server_wait_past_the_deadline_raises_at_once(server: FakeLlamaAPI) -> None:
    """A Retry-After longer than the caller's remaining time raises RateLimitError at once."""
    server.enqueue(Fault.rate_limited(retry_after="5"))
    async with _client(server, timeout=2) as llama:
        with pytest.raises(RateLimitError) as caught:
            await llama.models.list()
    assert caught.value.retry_after == 5.0
    assert len(server.requests) == 1


async def test_backoff_past_the_deadline_is_not_slept(server: FakeLlamaAPI) -> None:
    """When the backoff would outlast the deadline, the error is raised without waiting."""
    server.enqueue(Fault.error(503))
    async with _client(server) as llama:
        with pytest.raises(InternalServerError):
            await llama.models.list(timeout=0.3)
    assert len(server.requests) == 1


async def test_timeout_bounds_the_whole_call(server: FakeLlamaAPI) -> None:
    """A stalled server makes the call fail with APITimeoutError once its timeout is spent."""
    server.enqueue(Fault.stall())
    async with _client(server, timeout=0.3) as llama:
        with pytest.raises(APITimeoutError, match=r"timed out after 0\.3 s"):
            await llama.models.list()


async def test_per_call_timeout_overrides_the_client_timeout(server: FakeLlamaAPI) -> None:
    """timeout= on a call replaces the client's for that call only."""
    server.enqueue(Fault.delay(0.5))
    async with _client(server, timeout=0.2) as llama:
        assert len(await llama.models.list(timeout=5)) == 4


async def test_read_timeout_retries_a_silent_get(server: FakeLlamaAPI) -> None:
    """With read_timeout set, a GET whose server went silent is retried."""
    server.enqueue(Fault.stall())
    async with _client(server, read_timeout=0.2) as llama:
        response = await llama.models.with_response.list()
    assert response.retries == 1


async def test_read_timeout_message_names_the_setting(server: FakeLlamaAPI) -> None:
    """A read timeout that is not retried says which setting fired."""
    server.enqueue(Fault.stall())
    async with _client(server, read_timeout=0.2, max_retries=0) as llama:
        with pytest.raises(APITimeoutError, match="read_timeout"):
            await llama.models.list()


async def test_get_is_retried_after_dropped_connections(server: FakeLlamaAPI) -> None:
    """A GET whose connection dropped is retried with backoff."""
    server.enqueue(Fault.drop(), Fault.drop())
    async with _client(server, max_retries=1) as llama:
        response = await llama.models.with_response.list()
    assert response.retries == 1


async def test_post_is_not_retried_after_a_dropped_connection(server: FakeLlamaAPI) -> None:
    """A POST that may have reached the server is never resent: it may cost money."""
    server.enqueue(Fault.drop(), Fault.respond(200, json=LIST_BODY))
    async with _client(server) as llama:
        with pytest.raises(APIConnectionError):
            await _post(llama)
    assert len(server.requests) == 1
    assert server.requests[0].json() == {"probe": True}
    assert server.requests[0].headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("status", [500, 503, 408, 409])
async def test_post_is_not_retried_after_a_server_error(server: FakeLlamaAPI, status: int) -> None:
    """A POST is not retried on statuses the server may have acted on."""
    server.enqueue(Fault.error(status, headers=QUICK))
    async with _client(server) as llama:
        with pytest.raises(Exception, match=str(status)):
            await _post(llama)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault.rate_limited(retry_after_ms="1"),
        Fault.error(500, headers={"x-should-retry": "true", **QUICK}),
    ],
    ids=["429", "x-should-retry"],
)
async def test_post_is_retried_when_the_server_did_not_act(
    server: FakeLlamaAPI, fault: Fault
) -> None:
    """A POST is retried after a 429 or when the server says x-should-retry: true."""
    server.enqueue(fault, Fault.respond(200, json=LIST_BODY))
    async with _client(server) as llama:
        assert (await _post(llama)).ids == ["m"]
    assert len(server.requests) == 2


async def test_post_is_retried_when_the_connection_was_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing reached a server that refused the connection, so even a POST is retried."""
    caplog.set_level(logging.INFO, logger="llama_models")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AsyncLlamaClient(
        api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1
    ) as llama:
        with pytest.raises(APIConnectionError, match="cannot connect"):
            await _post(llama)
    assert caplog.text.count("retrying POST") == 1
