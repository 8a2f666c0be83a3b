"""Closing a client with work in flight: every call and stream ends promptly, with a typed error."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from script_support import HANG, run_script, start_script

from llama_models import AsyncLlamaClient, ClientStateError, LlamaClient, ModelList
from llama_models.testing import FakeLlamaAPI, Fault

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.mark.anyio
async def test_a_stream_being_read_ends_when_the_client_closes(server: FakeLlamaAPI) -> None:
    """aclose() ends a stream waiting for its next event, even with no idle_timeout."""
    server.enqueue(Fault.stream_stall(after=1))
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url, idle_timeout=None)
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)

    first = asyncio.Event()

    async def read() -> None:
        async for _ in stream:
            first.set()  # the reader goes on to wait for the next event

    reader = asyncio.create_task(read())
    await first.wait()
    await client.aclose()
    with pytest.raises(ClientStateError, match="the client was closed while the stream was open"):
        await asyncio.wait_for(reader, HANG)
    assert stream.closed


@pytest.mark.anyio
async def test_a_stream_not_being_read_fails_at_its_next_read(server: FakeLlamaAPI) -> None:
    """A stream left open when the client closes raises ClientStateError when read, then ends."""
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    await client.aclose()
    assert stream.closed
    with pytest.raises(ClientStateError, match="closed"):
        await stream.final_completion()
    assert [chunk async for chunk in stream] == []


@pytest.mark.anyio
async def test_calls_waiting_for_a_connection_end_when_the_client_closes(
    server: FakeLlamaAPI,
) -> None:
    """Calls queued for a free pooled connection get ClientStateError, not a bare CancelledError."""
    server.enqueue(Fault.stall())
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url, max_connections=1)
    calls = [asyncio.create_task(client.models.list()) for _ in range(5)]
    await server.wait_for_requests_async(1)
    await client.aclose()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    assert all(isinstance(outcome, ClientStateError) for outcome in outcomes), outcomes
    assert all("closed while the call was running" in str(outcome) for outcome in outcomes)


@pytest.mark.anyio
async def test_a_cancellation_of_the_callers_own_still_propagates(server: FakeLlamaAPI) -> None:
    """A call the caller cancelled raises CancelledError, even while the client closes."""
    server.enqueue(Fault.stall())
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    call = asyncio.create_task(client.models.list())
    await server.wait_for_requests_async(1)
    call.cancel()
    await client.aclose()
    with pytest.raises(asyncio.CancelledError):
        await call


@pytest.mark.anyio
async def test_a_closed_callers_session_ends_the_calls_waiting_on_it(server: FakeLlamaAPI) -> None:
    """Closing the caller's own aiohttp session under queued calls raises ClientStateError."""
    import aiohttp

    server.enqueue(Fault.stall())
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
    client = AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, http_session=session
    )
    calls = [asyncio.create_task(client.models.list()) for _ in range(3)]
    await server.wait_for_requests_async(1)
    await session.close()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    assert all(isinstance(outcome, ClientStateError) for outcome in outcomes), outcomes
    await client.aclose()


@pytest.mark.anyio
async def test_calls_racing_aclose_get_typed_errors(server: FakeLlamaAPI) -> None:
    """Calls started around aclose() either succeed or raise ClientStateError."""
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    await client.models.list()
    calls = [asyncio.create_task(client.models.list()) for _ in range(50)]
    closing = asyncio.create_task(client.aclose())
    calls += [asyncio.create_task(client.models.list()) for _ in range(50)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    await closing
    for outcome in outcomes:
        assert isinstance(outcome, (ClientStateError, ModelList)), repr(outcome)


def test_closing_the_blocking_client_closes_its_open_stream(threaded_server: FakeLlamaAPI) -> None:
    """close() with a stream open closes the stream, without unclosed-connection warnings."""
    threaded_server.enqueue(Fault.stream_stall(after=1))
    client = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    next(stream)
    client.close()
    assert stream.closed
    with pytest.raises(ClientStateError, match="closed"):
        next(stream)


def test_closing_the_blocking_client_ends_a_stream_read_in_another_thread(
    threaded_server: FakeLlamaAPI,
) -> None:
    """A thread reading a stream that waits for events gets ClientStateError when the client closes."""
    threaded_server.enqueue(Fault.stream_stall(after=1))
    client = LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, idle_timeout=None
    )
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    first = threading.Event()
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            for _ in stream:
                first.set()
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(HANG)
    client.close()
    reader.join(HANG)
    assert not reader.is_alive()
    (error,) = outcome
    assert isinstance(error, ClientStateError), repr(error)
    assert stream.closed


@pytest.mark.parametrize(
    "ending",
    ["", "client.close()\nprint(stream.closed)"],
    ids=["left-open-at-exit", "closed-with-the-client"],
)
def test_an_open_stream_goes_quietly_with_its_client(
    threaded_server: FakeLlamaAPI, ending: str
) -> None:
    """A stream open when its client closes, or when the script exits, leaves no unclosed response."""
    script = f"""
import sys
from llama_models import LlamaClient
client = LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2], idle_timeout=None)
stream = client.chat.completions.create(
    model="Llama-3.3-70B-Instruct", messages=[{{"role": "user", "content": "Hi"}}], stream=True
)
print(next(stream).event.event_type)
{ending}
"""
    threaded_server.enqueue(Fault.stream_stall(after=1))
    # In asyncio's debug mode (-X dev), aiohttp warns of every response left unclosed.
    result = run_script(script, threaded_server, flags=("-X", "dev"))
    expected = "start\nTrue\n" if ending else "start\n"
    assert (result.returncode, result.stdout) == (0, expected), result.stderr
    # Debug mode may also report a slow callback on a loaded machine; that is not at issue.
    assert "Unclosed" not in result.stderr
    assert "Exception ignored" not in result.stderr


@pytest.fixture
def _frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond, so that races get a chance to happen."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("_frequent_thread_switches")
def test_blocking_calls_racing_close_get_typed_errors(threaded_server: FakeLlamaAPI) -> None:
    """Threads calling without pause while the client closes get results or ClientStateError."""
    for _ in range(10):
        client = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
        client.models.list()
        running = threading.Barrier(9)

        def call_until_closed(
            client: LlamaClient = client, running: threading.Barrier = running
        ) -> BaseException:
            running.wait()
            while True:
                try:
                    client.models.list()
                except BaseException as exc:
                    return exc

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = [pool.submit(call_until_closed) for _ in range(8)]
            running.wait()
            client.close()
            outcomes = [result.result(timeout=HANG) for result in results]
        for outcome in outcomes:
            assert isinstance(outcome, ClientStateError), repr(outcome)


# A script whose upload's progress callback holds the client's event loop thread up
# until `release` is set; the main thread goes on once the callback is running.
HELD_BY_A_CALLBACK = """
    import sys, tempfile, threading
    from llama_models import LlamaClient, LlamaError

    client = LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2])
    held, release = threading.Event(), threading.Event()

    def on_progress(sent, total):
        held.set()
        release.wait()  # holds the client's event loop thread up

    def upload():
        with tempfile.NamedTemporaryFile(suffix=".txt") as file:
            file.write(b"hello")
            file.flush()
            try:
                client.uploads.upload_file(file.name, purpose="attachment", on_progress=on_progress)
            except LlamaError:
                pass

    threading.Thread(target=upload, daemon=True).start()
    held.wait()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_gets_out_of_a_close_that_hangs(threaded_server: FakeLlamaAPI) -> None:
    """close() waiting on a loop that a callback holds up is interrupted by Ctrl-C at once."""
    script = (
        HELD_BY_A_CALLBACK
        + f"""
    import os

    # Should close() never get to wait, the script ends instead of hanging the test.
    threading.Timer({HANG}, os._exit, (3,)).start()

    def announce(frame, event, arg):
        # "closing" is printed once close() is about to wait for the loop, so the
        # test's Ctrl-C lands inside close() and nowhere else.
        if event == "call" and frame.f_code.co_name == "result":
            sys.setprofile(None)
            print("closing", flush=True)

    try:
        sys.setprofile(announce)
        client.close()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    release.set()
    os._exit(0)  # the Timer thread would keep the interpreter alive
    """
    )
    with start_script(script, threaded_server) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "closing\n"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=HANG)
    assert (proc.returncode, stdout) == (0, "interrupted\n"), stderr


def test_exit_does_not_wait_for_a_loop_a_callback_holds_up(threaded_server: FakeLlamaAPI) -> None:
    """A script that ends while a callback holds its client's loop up still exits.

    At exit a client is closed for the script, but a loop that does not take up
    the closing soon is not waited for: nothing can release it any more.
    """
    result = run_script(HELD_BY_A_CALLBACK + '    print("exiting", flush=True)\n', threaded_server)
    assert (result.returncode, result.stdout) == (0, "exiting\n"), result.stderr
    assert "did not take up closing the client" in result.stderr
