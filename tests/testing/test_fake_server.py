"""Specification of the fake Llama API server, exercised with a plain aiohttp client."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from llama_models.testing import FakeLlamaAPI, Fault, RecordedRequest

AUTH = {"Authorization": "Bearer test-key"}
PREFIX = b'{"object": "list", "data": ['
#: Long enough for loopback, short enough to keep the suite fast.
SHORT = aiohttp.ClientTimeout(total=0.3)
#: A stop that had to wait for aiohttp's shutdown timeout would take 2 s or more.
PROMPT = 1.0


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "created": 1735718400, "object": "model", "owned_by": "Meta"}


DOCUMENTED_LIST = {
    "object": "list",
    "data": [
        _model("Llama-3.3-70B-Instruct"),
        _model("Llama-3.3-8B-Instruct"),
        _model("Llama-4-Scout-17B-16E-Instruct-FP8"),
        _model("Llama-4-Maverick-17B-128E-Instruct-FP8"),
    ],
}
RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
)


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] = AUTH,
    **kwargs: Any,
) -> tuple[int, Mapping[str, str], bytes]:
    """Send one request and return status, headers and body."""
    async with session.request(method, url, headers=headers, **kwargs) as response:
        return response.status, response.headers, await response.read()


async def fetch_once(url: str, **kwargs: Any) -> tuple[int, Mapping[str, str], bytes]:
    """Send one request from a fresh session (for servers on other threads)."""
    async with aiohttp.ClientSession() as session:
        return await fetch(session, url, **kwargs)


# -- endpoints ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_models_returns_documented_catalogue(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """GET /v1/models answers 200 with the four documented models in a list wrapper."""
    status, headers, body = await fetch(session, f"{api.base_url}/models")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == DOCUMENTED_LIST


@pytest.mark.anyio
async def test_retrieve_model_returns_bare_model(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """GET /v1/models/{id} answers 200 with the model object itself."""
    url = f"{api.base_url}/models/Llama-4-Scout-17B-16E-Instruct-FP8"
    status, headers, body = await fetch(session, url)
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == _model("Llama-4-Scout-17B-16E-Instruct-FP8")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic test-key"}],
    ids=["missing", "wrong-key", "wrong-scheme"],
)
async def test_bad_api_key_is_401(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """A missing or wrong key gets 401 with the error body and no echo of the key."""
    status, response_headers, body = await fetch(session, f"{api.base_url}/models", headers=headers)
    assert status == 401
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"title": "Unauthorized", "detail": "Invalid API key", "status": 401}
    assert b"key" not in body.replace(b"API key", b"")


@pytest.mark.anyio
async def test_unknown_model_is_404(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """An unknown model id gets 404 with the documented JSON error body."""
    status, headers, body = await fetch(session, f"{api.base_url}/models/nope")
    assert (status, headers["Content-Type"]) == (404, "application/json")
    assert json.loads(body) == {
        "title": "Not found",
        "detail": "Model nope not found",
        "status": 404,
    }


@pytest.mark.anyio
async def test_percent_encoded_slash_is_one_path_segment(
    session: aiohttp.ClientSession,
) -> None:
    """A model id with "/" sent as %2F matches one segment and is decoded for lookup."""
    async with FakeLlamaAPI(models=[_model("org/model-x")]) as api:
        status, _, body = await fetch(session, f"{api.base_url}/models/org%2Fmodel-x")
        assert (status, json.loads(body)) == (200, _model("org/model-x"))
        status, _, body = await fetch(session, f"{api.base_url}/models/org/model-x")
        assert status == 404
        assert json.loads(body)["detail"] == "Path /v1/models/org/model-x not found"
        assert [r.path for r in api.requests] == [
            "/v1/models/org%2Fmodel-x",
            "/v1/models/org/model-x",
        ]


@pytest.mark.anyio
async def test_unknown_path_is_404(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A path outside the API gets 404 with a JSON error body."""
    status, headers, body = await fetch(session, f"{api.origin}/v2/models")
    assert (status, headers["Content-Type"]) == (404, "application/json")
    assert json.loads(body) == {
        "title": "Not found",
        "detail": "Path /v2/models not found",
        "status": 404,
    }


@pytest.mark.anyio
async def test_wrong_method_is_405(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A known path with an unsupported method gets 405, an Allow header and a JSON body."""
    status, headers, body = await fetch(session, f"{api.base_url}/models", method="DELETE")
    assert (status, headers["Allow"], headers["Content-Type"]) == (405, "GET", "application/json")
    assert json.loads(body)["status"] == 405


@pytest.mark.anyio
async def test_rate_limit_headers_count_requests(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Successful answers carry the four rate-limit headers, counting down per request."""
    _, first, _ = await fetch(session, f"{api.base_url}/models")
    _, second, _ = await fetch(session, f"{api.base_url}/models/Llama-3.3-8B-Instruct")
    assert [first[name] for name in RATE_LIMIT_HEADERS] == ["3000", "2999", "2500000", "2500000"]
    assert second["x-ratelimit-remaining-requests"] == "2998"


@pytest.mark.anyio
async def test_request_id_header_only_when_asked(session: aiohttp.ClientSession) -> None:
    """x-request-id is absent by default and present as req_<32 hex> when switched on."""
    async with FakeLlamaAPI() as plain, FakeLlamaAPI(send_request_id=True) as with_id:
        _, plain_headers, _ = await fetch(session, f"{plain.base_url}/models")
        _, ok_headers, _ = await fetch(session, f"{with_id.base_url}/models")
        _, error_headers, _ = await fetch(session, f"{with_id.base_url}/models", headers={})
    assert "x-request-id" not in plain_headers
    assert re.fullmatch(r"req_[0-9a-f]{32}", ok_headers["x-request-id"])
    assert ok_headers["x-request-id"] != error_headers["x-request-id"]


# -- catalogue ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_catalogue_can_be_replaced_and_grown(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """set_models replaces the catalogue; synthetic models append with continuing numbers."""
    api.set_models([_model("only")])
    api.add_synthetic_models(2)
    api.add_synthetic_models(1)
    _, _, body = await fetch(session, f"{api.base_url}/models")
    assert [m["id"] for m in json.loads(body)["data"]] == [
        "only",
        "synthetic-model-00001",
        "synthetic-model-00002",
        "synthetic-model-00003",
    ]
    status, _, body = await fetch(session, f"{api.base_url}/models/synthetic-model-00003")
    assert (status, json.loads(body)["id"]) == (200, "synthetic-model-00003")


@pytest.mark.parametrize(
    "models", [[_model("a"), _model("a")], [{"created": 1}], [{"id": ""}]], ids=str
)
def test_invalid_catalogue_is_rejected(models: list[dict[str, Any]]) -> None:
    """Models without a non-empty string id, or with a duplicate id, raise ValueError."""
    with pytest.raises(ValueError, match="id"):
        FakeLlamaAPI(models=models)


def test_server_arguments_are_validated() -> None:
    """An empty API key or a negative synthetic model count raises ValueError."""
    with pytest.raises(ValueError, match="api_key"):
        FakeLlamaAPI(api_key="")
    with pytest.raises(ValueError, match="n must be"):
        FakeLlamaAPI().add_synthetic_models(-1)


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_respond_answers_exactly_as_scripted(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.respond sends the given status, JSON or raw body, headers and content type."""
    api.enqueue(
        Fault.respond(202, json={"ok": True}, headers={"x-custom": "1"}),
        Fault.respond(500, body="oops"),
        Fault.respond(200, body=b"<html/>", content_type="text/html"),
    )
    url = f"{api.base_url}/models"
    status, headers, body = await fetch(session, url)
    assert (status, headers["Content-Type"], headers["x-custom"]) == (202, "application/json", "1")
    assert json.loads(body) == {"ok": True}
    assert "x-ratelimit-limit-requests" not in headers
    status, headers, body = await fetch(session, url)
    assert (status, headers["Content-Type"], body) == (500, "text/plain; charset=utf-8", b"oops")
    status, headers, body = await fetch(session, url)
    assert (status, headers["Content-Type"], body) == (200, "text/html", b"<html/>")


@pytest.mark.anyio
async def test_error_sends_illustrative_json_body(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.error sends {title, detail, status} with a title defaulting to the reason phrase."""
    api.enqueue(
        Fault.error(503, "down for maintenance", headers={"x-should-retry": "false"}),
        Fault.error(418, "short and stout", title="Teapot"),
        Fault.error(599),
    )
    status, headers, body = await fetch(session, f"{api.base_url}/models")
    assert (status, headers["Content-Type"], headers["x-should-retry"]) == (
        503,
        "application/json",
        "false",
    )
    assert json.loads(body) == {
        "title": "Service Unavailable",
        "detail": "down for maintenance",
        "status": 503,
    }
    _, _, body = await fetch(session, f"{api.base_url}/models")
    assert json.loads(body) == {"title": "Teapot", "detail": "short and stout", "status": 418}
    _, _, body = await fetch(session, f"{api.base_url}/models")
    assert json.loads(body) == {"title": "Error", "detail": "Simulated error", "status": 599}


@pytest.mark.anyio
async def test_rate_limited_sends_429_with_quota_headers(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.rate_limited sends 429, the exhausted quota headers and the retry hints given."""
    api.enqueue(Fault.rate_limited(retry_after="2", retry_after_ms="10"), Fault.rate_limited())
    status, headers, body = await fetch(session, f"{api.base_url}/models")
    assert status == 429
    assert json.loads(body) == {
        "title": "Too many requests",
        "detail": "Rate limit exceeded",
        "status": 429,
    }
    assert [headers[name] for name in RATE_LIMIT_HEADERS] == ["10", "0", "250000", "0"]
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "10")
    _, headers, _ = await fetch(session, f"{api.base_url}/models")
    assert "retry-after" not in headers
    assert "retry-after-ms" not in headers


@pytest.mark.anyio
async def test_delay_then_answers_normally(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.delay holds the answer back for the given time, then serves the request."""
    api.enqueue(Fault.delay(0.05))
    started = time.monotonic()
    status, _, body = await fetch(session, f"{api.base_url}/models")
    assert time.monotonic() - started >= 0.05
    assert (status, json.loads(body)) == (200, DOCUMENTED_LIST)


@pytest.mark.anyio
@pytest.mark.parametrize("fault", [Fault.stall(), Fault.delay(3600)], ids=["stall", "delay"])
async def test_hanging_request_times_out_and_stop_stays_prompt(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, fault: Fault
) -> None:
    """A stalled or long-delayed request times the client out; stopping releases it at once."""
    api.enqueue(fault)
    with pytest.raises(asyncio.TimeoutError):
        await fetch(session, f"{api.base_url}/models", timeout=SHORT)
    started = time.monotonic()
    await api.stop()
    assert time.monotonic() - started < PROMPT


@pytest.mark.anyio
async def test_stall_body_times_out_the_body_read(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.stall_body sends headers and a prefix of a longer body, then nothing more."""
    api.enqueue(Fault.stall_body(status=201))
    async with session.get(f"{api.base_url}/models", headers=AUTH, timeout=SHORT) as response:
        assert (response.status, response.content_type) == (201, "application/json")
        assert response.content_length is not None
        assert response.content_length > len(PREFIX)
        assert await response.content.readexactly(len(PREFIX)) == PREFIX
        with pytest.raises(asyncio.TimeoutError):
            await response.read()
    started = time.monotonic()
    await api.stop()
    assert time.monotonic() - started < PROMPT


@pytest.mark.anyio
async def test_stop_cuts_off_a_stalled_body_in_flight(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Stopping the server while a client waits on a stalled body closes that connection."""
    api.enqueue(Fault.stall_body(prefix=b"{"))
    async with session.get(f"{api.base_url}/models", headers=AUTH) as response:
        assert await response.content.readexactly(1) == b"{"
        started = time.monotonic()
        await api.stop()
        assert time.monotonic() - started < PROMPT
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


@pytest.mark.anyio
async def test_drop_closes_without_a_response(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.drop closes the connection before any byte of the response is sent."""
    api.enqueue(Fault.drop())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await fetch(session, f"{api.base_url}/models", method="POST")
    # aiohttp itself resends an idempotent request once after a disconnect, so a GET
    # needs two drops to fail.
    api.enqueue(Fault.drop(), Fault.drop())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await fetch(session, f"{api.base_url}/models")
    status, _, _ = await fetch(session, f"{api.base_url}/models")
    assert status == 200
    assert [r.method for r in api.requests] == ["POST", "GET", "GET", "GET"]


@pytest.mark.anyio
async def test_drop_mid_body_truncates_the_body(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.drop_mid_body sends a 200 and part of the body, then closes the connection."""
    api.enqueue(Fault.drop_mid_body())
    async with session.get(f"{api.base_url}/models", headers=AUTH) as response:
        assert response.status == 200
        assert response.content_length is not None
        assert response.content_length > len(PREFIX)
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


@pytest.mark.anyio
async def test_malformed_sends_a_complete_invalid_json_body(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Fault.malformed sends a properly framed response whose body is not JSON."""
    api.enqueue(Fault.malformed(), Fault.malformed(status=500, body=b"<html>", content_type="x/y"))
    status, headers, body = await fetch(session, f"{api.base_url}/models")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert body == b'{"object": "list", "data": [{"id": '
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding error
        json.loads(body)
    status, headers, body = await fetch(session, f"{api.base_url}/models")
    assert (status, headers["Content-Type"], body) == (500, "x/y", b"<html>")


@pytest.mark.anyio
async def test_redirect_sends_location(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """Fault.redirect answers with the status and Location given, relative or absolute."""
    api.enqueue(
        Fault.redirect("/v1/models/Llama-3.3-8B-Instruct"),
        Fault.redirect(f"{api.base_url}/models", status=308),
    )
    status, headers, _ = await fetch(session, f"{api.base_url}/models", allow_redirects=False)
    assert (status, headers["Location"]) == (307, "/v1/models/Llama-3.3-8B-Instruct")
    status, _, body = await fetch(session, f"{api.base_url}/models/nope")
    assert (status, json.loads(body)) == (200, DOCUMENTED_LIST)
    assert [r.path for r in api.requests] == ["/v1/models", "/v1/models/nope", "/v1/models"]


@pytest.mark.anyio
async def test_fault_applies_before_auth(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A queued fault answers even a request without a key; the request is still recorded."""
    api.enqueue(Fault.error(503))
    status, _, _ = await fetch(session, f"{api.base_url}/models", headers={})
    assert status == 503
    status, _, _ = await fetch(session, f"{api.base_url}/models", headers={})
    assert status == 401
    assert len(api.requests) == 2


def test_fault_is_built_only_through_constructors() -> None:
    """Calling Fault() directly raises TypeError pointing at the classmethods."""
    with pytest.raises(TypeError, match="classmethods"):
        Fault()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Fault.error(99),
        lambda: Fault.respond(200, json={}, body=b""),
        lambda: Fault.delay(-1),
        lambda: Fault.delay(float("nan")),
        lambda: Fault.redirect("/x", status=200),
    ],
    ids=["status", "json-and-body", "negative-delay", "nan-delay", "redirect-status"],
)
def test_fault_constructors_reject_nonsense(build: Any) -> None:
    """Fault constructors raise ValueError for arguments no server could act on."""
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()


# -- enqueue --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_faults_are_used_once_in_fifo_order(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Each queued fault answers exactly one request, in the order they were queued."""
    api.enqueue(Fault.error(500), Fault.error(503))
    api.enqueue(Fault.error(502))
    assert api.pending_faults == 3
    statuses = [(await fetch(session, f"{api.base_url}/models"))[0] for _ in range(4)]
    assert statuses == [500, 503, 502, 200]
    assert api.pending_faults == 0


@pytest.mark.anyio
async def test_faults_match_method_and_path_glob(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A fault with method or path waits for a matching request; others pass it by."""
    api.enqueue(Fault.error(500), method="post")
    api.enqueue(Fault.error(503), path="/v1/models/*")
    api.enqueue(Fault.error(504))
    list_url, model_url = f"{api.base_url}/models", f"{api.base_url}/models/nope"
    assert (await fetch(session, list_url))[0] == 504
    assert (await fetch(session, list_url))[0] == 200
    assert (await fetch(session, model_url))[0] == 503
    assert api.pending_faults == 1
    assert (await fetch(session, list_url, method="POST"))[0] == 500
    assert api.pending_faults == 0


# -- recording ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_requests_are_recorded_raw(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """Each request is recorded with raw path and query, headers and body, in order."""
    await fetch(session, f"{api.base_url}/models/a%2Fb?x=%20y&z=1")
    await fetch(session, f"{api.base_url}/models", method="POST", json={"q": [1, 2]})
    first, second = api.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query, first.body) == (
        "GET",
        "/v1/models/a%2Fb",
        "x=%20y&z=1",
        b"",
    )
    assert first.headers["authorization"] == "Bearer test-key"
    assert (second.method, second.path, second.query) == ("POST", "/v1/models", "")
    assert second.headers["CONTENT-TYPE"] == "application/json"
    assert second.json() == {"q": [1, 2]}
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding error
        first.json()
    api.clear_requests()
    assert api.requests == []


@pytest.mark.anyio
async def test_connection_reuse_is_visible(api: FakeLlamaAPI) -> None:
    """Requests over one keep-alive connection share connection_id and peer_port."""
    url = f"{api.base_url}/models"
    async with aiohttp.ClientSession() as pooled:
        await fetch(pooled, url)
        await fetch(pooled, url)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as unpooled:
        await fetch(unpooled, url)
        await fetch(unpooled, url)
    first, second, third, fourth = api.requests
    assert (first.connection_id, first.peer_port) == (second.connection_id, second.peer_port)
    assert first.peer_port > 0
    assert len({first.connection_id, third.connection_id, fourth.connection_id}) == 3


# -- lifecycle ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_addresses_follow_the_bound_port() -> None:
    """base_url and origin use the port picked at start; an instance serves only once."""
    server = FakeLlamaAPI(api_key="k")
    with pytest.raises(RuntimeError):
        _ = server.port
    assert FakeLlamaAPI(port=8123).base_url == "http://127.0.0.1:8123/v1"
    async with server:
        assert server.port > 0
        assert server.origin == f"http://127.0.0.1:{server.port}"
        assert server.base_url == f"{server.origin}/v1"
        assert server.api_key == "k"
        with pytest.raises(RuntimeError, match="once"):
            await server.start()


@pytest.mark.anyio
async def test_app_can_be_embedded(session: aiohttp.ClientSession) -> None:
    """The aiohttp application serves the API when run by the user's own runner."""
    fake = FakeLlamaAPI()
    runner = web.AppRunner(fake.app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        status, _, body = await fetch(session, f"http://127.0.0.1:{port}/v1/models")
        assert (status, json.loads(body)) == (200, DOCUMENTED_LIST)
    finally:
        await runner.cleanup()


def test_thread_mode_serves_other_event_loops() -> None:
    """The blocking context manager serves from a background thread with its own loop."""
    with FakeLlamaAPI() as api:
        api.enqueue(Fault.error(503))
        first = asyncio.run(fetch_once(f"{api.base_url}/models"))
        second = asyncio.run(fetch_once(f"{api.base_url}/models"))
    assert (first[0], second[0]) == (503, 200)
    assert json.loads(second[2]) == DOCUMENTED_LIST
    assert len(api.requests) == 2


def test_thread_mode_stops_promptly_with_a_stalled_request() -> None:
    """Leaving the with-block releases a stalled request and joins the thread quickly."""
    with FakeLlamaAPI() as api:
        api.enqueue(Fault.stall())
        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(fetch_once(f"{api.base_url}/models", timeout=SHORT))
        stopping = time.monotonic()
    assert time.monotonic() - stopping < PROMPT


def test_thread_mode_server_cannot_be_stopped_from_another_loop() -> None:
    """Awaiting stop() on a loop other than the server's raises RuntimeError."""
    with FakeLlamaAPI() as api:
        with pytest.raises(RuntimeError, match="event loop"):
            asyncio.run(api.stop())
        status, _, _ = asyncio.run(fetch_once(f"{api.base_url}/models"))
    assert status == 200


def test_thread_mode_reports_bind_errors() -> None:
    """A port that cannot be bound raises OSError from the with-statement."""
    with (
        FakeLlamaAPI() as taken,
        pytest.raises(OSError, match="address"),
        FakeLlamaAPI(port=taken.port),
    ):
        pass


def test_pytest_fixture_yields_running_server(fake_llama_api: FakeLlamaAPI) -> None:
    """The fake_llama_api fixture yields a started server with the default key."""
    status, _, body = asyncio.run(fetch_once(f"{fake_llama_api.base_url}/models"))
    assert (status, json.loads(body)) == (200, DOCUMENTED_LIST)
    assert fake_llama_api.api_key == "test-key"


def test_importing_the_package_does_not_import_pytest() -> None:
    """llama_models.testing is importable without pulling in pytest."""
    code = "import sys, llama_models.testing; print('pytest' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_command_line_serves_until_sigint() -> None:
    """python -m llama_models.testing prints its URL first, serves, and exits 0 on SIGINT."""
    command = [sys.executable, "-m", "llama_models.testing", "--api-key", "cli", "--models", "3"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.fullmatch(r"serving on (http://127\.0\.0\.1:\d+/v1)\n", line)
            assert match is not None, line
            status, _, body = asyncio.run(
                fetch_once(f"{match.group(1)}/models", headers={"Authorization": "Bearer cli"})
            )
            assert status == 200
            assert [m["id"] for m in json.loads(body)["data"]][-3:] == [
                "synthetic-model-00001",
                "synthetic-model-00002",
                "synthetic-model-00003",
            ]
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
            assert process.stderr is not None
            rest, errors = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert (process.returncode, errors) == (0, "")
    assert match.group(1) in rest  # in the line to paste into another shell
