"""``LlamaClient.batch``: the blocking iterator, and how leaving it early cancels the calls."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap

import pytest
from batch_support import batch_tasks, chat_item
from script_support import HANG, start_script

from llama_models import Batch, BatchProgress, ChatCompletion, InvalidArgumentError, LlamaClient
from llama_models.testing import FakeLlamaAPI, Fault

CHAT = "/v1/chat/completions"


async def _tasks_end() -> list[bool]:
    """On the client's loop: wait for the batch tasks still there; whether each was cancelled."""
    tasks = batch_tasks()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), HANG)
    return [task.cancelled() for task in tasks]


def test_the_blocking_batch_yields_every_result_in_order(sync_client: LlamaClient) -> None:
    """With ordered=True the blocking iterator yields each request's result in input order."""
    updates: list[BatchProgress] = []
    items = [chat_item(f"q{n}", f"q{n}") for n in range(20)]
    with sync_client.batch(items, concurrency=5, ordered=True, on_progress=updates.append) as batch:
        found = list(batch)
    assert [result.custom_id for result in found] == [f"q{n}" for n in range(20)]
    assert all(isinstance(result.response, ChatCompletion) for result in found)
    assert batch.closed
    assert batch.progress().done == updates[-1].done == 20


def test_the_blocking_batch_takes_the_per_call_options(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """The blocking batch passes its options to every request, as the async one does."""
    items = [chat_item(f"q{n}", f"q{n}") for n in range(3)]
    with sync_client.batch(items, extra_headers={"X-Job": "nightly"}, timeout=30) as batch:
        assert all(result.ok for result in batch)
    chats = [r for r in threaded_server.requests if r.path == "/v1/chat/completions"]
    assert [r.headers["X-Job"] for r in chats] == ["nightly"] * 3


def test_the_blocking_batch_refuses_bad_arguments_at_once(sync_client: LlamaClient) -> None:
    """A bad option raises InvalidArgumentError from batch() itself."""
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        sync_client.batch([], concurrency=0)


def test_breaking_out_of_the_loop_cancels_the_calls_in_flight(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """Leaving ``for`` early cancels the stalled calls still in flight; none is left running."""
    threaded_server.enqueue(Fault.stall(), Fault.stall(), path=CHAT)
    items = [chat_item(f"q{n}", f"q{n}") for n in range(10)]
    for result in sync_client.batch(items, concurrency=3):
        assert result.ok
        break
    # Stalled calls never end on their own: the wait would time out.
    assert all(sync_client._portal.call(_tasks_end))


def test_leaving_with_on_an_exception_cancels_the_calls_in_flight(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """An exception inside ``with client.batch(...)`` closes the batch, cancelling its calls."""
    threaded_server.enqueue(Fault.stall(), Fault.stall(), path=CHAT)
    items = [chat_item(f"q{n}", f"q{n}") for n in range(10)]
    batch = sync_client.batch(items, concurrency=3)
    with pytest.raises(LookupError):
        _fail_inside(batch)
    assert batch.closed
    assert all(sync_client._portal.call(_tasks_end))


def _fail_inside(batch: Batch) -> None:
    with batch:
        next(batch)
        raise LookupError


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_cancels_the_batch_and_leaves_the_client_usable(
    threaded_server: FakeLlamaAPI,
) -> None:
    """Ctrl-C while the batch waits raises KeyboardInterrupt; its calls end; the client goes on."""
    threaded_server.enqueue(Fault.stall(), Fault.stall(), path=CHAT)
    script = textwrap.dedent(
        """
        import sys
        from llama_models import LlamaClient
        items = [{"body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}] * 2
        with LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
            batch = client.batch(items, concurrency=2)
            try:
                list(batch)
            except KeyboardInterrupt:
                print("interrupted", batch.closed, flush=True)
            print(len(client.models.list()), flush=True)
        """
    )
    with start_script(script, threaded_server) as proc:
        threaded_server.wait_for_requests(2, timeout=HANG)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=HANG)
    assert (proc.returncode, out.split("\n")) == (0, ["interrupted True", "4", ""]), err
