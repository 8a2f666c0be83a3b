"""Request hooks: one RequestAttempt per attempt, on both clients, never with the key."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import attrs
import pytest

from llama_models import (
    APIConnectionError,
    APITimeoutError,
    AsyncLlamaClient,
    ClientStateError,
    InternalServerError,
    InvalidArgumentError,
    LlamaClient,
    NotFoundError,
    RateLimitInfo,
    RequestAttempt,
)
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

QUICK = {"retry-after-ms": "1"}
MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "hello"}]


def _client(server: FakeLlamaAPI, records: list[RequestAttempt], **kwargs: Any) -> AsyncLlamaClient:
    return AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, hooks=[records.append], **kwargs
    )


async def test_each_attempt_is_reported_with_its_outcome(server: FakeLlamaAPI) -> None:
    """A retried 503 and the success after it are two records, numbered, with status and rate limits."""
    server.enqueue(Fault.error(503, headers=QUICK))
    records: list[RequestAttempt] = []
    async with _client(server, records) as llama:
        await llama.models.list()
    first, second = records
    assert (first.attempt, first.status, first.will_retry) == (1, 503, True)
    assert isinstance(first.error, InternalServerError)
    assert (second.attempt, second.status, second.will_retry, second.error) == (2, 200, False, None)
    assert second.method == "GET"
    assert second.url == server.base_url + "/models"
    assert isinstance(second.rate_limit, RateLimitInfo)
    assert second.elapsed >= 0
    assert not second.stream


async def test_a_final_error_is_reported_as_not_retried(server: FakeLlamaAPI) -> None:
    """An error that is not retried is reported with its typed error and will_retry false."""
    server.enqueue(Fault.error(404, headers={"x-request-id": "req-123"}))
    records: list[RequestAttempt] = []
    async with _client(server, records) as llama:
        with pytest.raises(NotFoundError) as raised:
            await llama.models.list()
    (record,) = records
    assert record.error is raised.value
    assert (record.status, record.will_retry, record.request_id) == (404, False, "req-123")


async def test_an_attempt_without_a_response_has_no_status(server: FakeLlamaAPI) -> None:
    """A dropped connection is reported with status None and its connection error."""
    server.enqueue(Fault.drop(), Fault.drop())  # aiohttp itself resends a GET once
    records: list[RequestAttempt] = []
    async with _client(server, records) as llama:
        await llama.models.list()
    assert [(r.status, type(r.error), r.will_retry) for r in records] == [
        (None, APIConnectionError, True),
        (200, type(None), False),
    ]


async def test_a_timed_out_attempt_is_reported(server: FakeLlamaAPI) -> None:
    """An attempt the call's deadline ends is reported with an APITimeoutError and no status."""
    server.enqueue(Fault.stall())
    records: list[RequestAttempt] = []
    async with _client(server, records, timeout=0.3) as llama:
        with pytest.raises(APITimeoutError):
            await llama.models.list()
    (record,) = records
    assert record.status is None
    assert isinstance(record.error, APITimeoutError)
    assert not record.will_retry


async def test_a_redirect_is_part_of_its_attempt(server: FakeLlamaAPI) -> None:
    """A followed redirect makes one record, with the URL the attempt ended at."""
    server.enqueue(Fault.redirect(server.base_url + "/models?page=1"))
    records: list[RequestAttempt] = []
    async with _client(server, records) as llama:
        await llama.models.list()
    (record,) = records
    assert record.status == 200
    assert record.url.endswith("/models?page=1")


async def test_bodies_are_given_only_when_asked_for(server: FakeLlamaAPI) -> None:
    """Without hook_bodies the bodies are None; with it the hooks get the bytes sent and received."""
    plain: list[RequestAttempt] = []
    async with _client(server, plain) as llama:
        await llama.chat.completions.create(model=MODEL, messages=HELLO)
    assert (plain[0].request_body, plain[0].response_body) == (None, None)
    full: list[RequestAttempt] = []
    async with _client(server, full, hook_bodies=True) as llama:
        completion = await llama.chat.completions.create(model=MODEL, messages=HELLO)
    assert full[0].request_body is not None
    assert b'"hello"' in full[0].request_body
    assert full[0].response_body is not None
    assert completion.text.encode() in full[0].response_body


async def test_a_stream_attempt_is_reported_when_its_response_starts(server: FakeLlamaAPI) -> None:
    """A stream's attempt is reported with its status before any event is read, without events."""
    records: list[RequestAttempt] = []
    async with _client(server, records, hook_bodies=True) as llama:
        stream = await llama.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        assert [(r.status, r.stream, r.response_body) for r in records] == [(200, True, None)]
        async with stream:
            await stream.final_completion()
    assert len(records) == 1


async def test_hooks_never_see_the_key(server: FakeLlamaAPI) -> None:
    """No field of any record, bodies included, holds the API key or the Authorization header."""
    server.enqueue(Fault.rate_limited(retry_after_ms="1"), Fault.error(401))
    records: list[RequestAttempt] = []
    async with _client(server, records, hook_bodies=True, max_retries=1) as llama:
        with pytest.raises(Exception, match="401"):
            await llama.chat.completions.create(model=MODEL, messages=HELLO)
    assert len(records) == 2
    for record in records:
        text = repr(record) + repr(attrs.asdict(record)) + repr(record.error and vars(record.error))
        assert server.api_key not in text
        assert "Bearer" not in text


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    server: FakeLlamaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook's exception is logged on the llama_models logger; later hooks and the call go on."""
    records: list[RequestAttempt] = []

    def broken(record: RequestAttempt) -> None:
        raise RuntimeError("hook bug")

    with caplog.at_level(logging.ERROR, logger="llama_models"):
        async with AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, hooks=[broken, records.append]
        ) as llama:
            models = await llama.models.list()
    assert models.data
    assert len(records) == 1
    assert "hook bug" in caplog.text
    assert "raised; the call goes on" in caplog.text


@pytest.mark.parametrize(
    "hooks",
    [["not callable"], "records", {"a": print}, 3],
    ids=["item", "str", "mapping", "int"],
)
def test_bad_hooks_are_refused(hooks: Any) -> None:
    """Hooks must be an iterable of callables; anything else fails at construction."""
    with pytest.raises(InvalidArgumentError, match="hooks"):
        AsyncLlamaClient(api_key="k", hooks=hooks)


def test_coroutine_function_hooks_are_refused() -> None:
    """An async def hook is refused with a message saying hooks run synchronously."""

    async def hook(record: RequestAttempt) -> None:
        pass

    class Callable:
        async def __call__(self, record: RequestAttempt) -> None:
            pass

    for candidate in (hook, Callable()):
        with pytest.raises(InvalidArgumentError, match="synchronously"):
            LlamaClient(api_key="k", hooks=[candidate])


def test_telemetry_must_be_a_telemetry() -> None:
    """Anything but a llama_models.otel.Telemetry as telemetry is refused."""
    with pytest.raises(InvalidArgumentError, match="Telemetry"):
        AsyncLlamaClient(api_key="k", telemetry=object())  # type: ignore[arg-type]


def test_blocking_client_runs_hooks_on_its_loop_thread(threaded_server: FakeLlamaAPI) -> None:
    """The blocking client calls its hooks on its event loop thread, not the caller's."""
    threads: list[int] = []
    records: list[RequestAttempt] = []

    def hook(record: RequestAttempt) -> None:
        threads.append(threading.get_ident())
        records.append(record)

    with LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, hooks=[hook]
    ) as llama:
        llama.chat.completions.create(model=MODEL, messages=HELLO)
    assert [r.status for r in records] == [200]
    assert threads[0] != threading.get_ident()


async def test_a_call_ended_by_closing_the_client_is_reported(server: FakeLlamaAPI) -> None:
    """A call the client's close ends is reported once, with a ClientStateError and no status."""
    server.enqueue(Fault.stall())
    records: list[RequestAttempt] = []
    llama = _client(server, records)
    call = asyncio.create_task(llama.models.list())
    await server.wait_for_requests_async(1)
    await llama.aclose()
    with pytest.raises(ClientStateError):
        await call
    (record,) = records
    assert record.status is None
    assert isinstance(record.error, ClientStateError)


async def test_a_cancelled_call_is_reported_without_an_error(server: FakeLlamaAPI) -> None:
    """A call its caller cancels is reported once, with neither a status nor an error."""
    server.enqueue(Fault.stall())
    records: list[RequestAttempt] = []
    async with _client(server, records) as llama:
        call = asyncio.create_task(llama.models.list())
        await server.wait_for_requests_async(1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    (record,) = records
    assert (record.status, record.error, record.will_retry) == (None, None, False)
