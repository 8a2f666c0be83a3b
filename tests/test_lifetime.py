"""How long a client lives: as long as anything taken from it; not across pickling; not re-entered."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llama_models import AsyncLlamaClient, ClientStateError, LlamaClient
from llama_models.testing import FakeLlamaAPI

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "llama-models-portal"]


def new_client(server: FakeLlamaAPI) -> LlamaClient:
    return LlamaClient(api_key=server.api_key, base_url=server.base_url)


def test_a_one_liner_works(threaded_server: FakeLlamaAPI) -> None:
    """A call on a client that nothing else refers to runs, and its thread stops afterwards."""
    # Not inside the assert: pytest's assertion rewriting would keep the client referenced.
    models = new_client(threaded_server).models.list()
    assert len(models) == 4
    gc.collect()
    assert not portal_threads()


@pytest.mark.parametrize(
    ("take", "use"),
    [
        (lambda client: client.models, lambda models: models.list()),
        (lambda client: client.models.with_response, lambda view: view.list()),
        (
            lambda client: client.chat,
            lambda chat: chat.completions.create(model=MODEL, messages=HELLO),
        ),
        (
            lambda client: client.chat.completions.with_response,
            lambda view: view.create(model=MODEL, messages=HELLO),
        ),
        (lambda client: client.moderations, lambda moderations: moderations.create(messages=HELLO)),
        (
            lambda client: client.uploads,
            lambda uploads: uploads.create(
                bytes=3, filename="a.txt", mime_type="text/plain", purpose="attachment"
            ),
        ),
    ],
    ids=["models", "models-with-response", "chat", "chat-with-response", "moderations", "uploads"],
)
def test_a_resource_keeps_its_client_alive(
    threaded_server: FakeLlamaAPI, take: Callable[[LlamaClient], Any], use: Callable[[Any], Any]
) -> None:
    """A resource (or its with_response view) works after its client was dropped."""
    part = take(new_client(threaded_server))
    gc.collect()
    assert use(part) is not None
    assert len(portal_threads()) == 1
    del part
    gc.collect()
    assert not portal_threads()


def test_a_namespace_taken_from_a_dropped_client_works(threaded_server: FakeLlamaAPI) -> None:
    """``models = LlamaClient(...).models; models.list()`` works."""
    models = new_client(threaded_server).models
    gc.collect()
    assert len(models.list()) == 4
    assert len(models.with_response.list().data) == 4


def test_an_open_stream_keeps_its_client_alive(threaded_server: FakeLlamaAPI) -> None:
    """A stream from a dropped client reads to its end, then the client's thread stops."""
    stream = new_client(threaded_server).chat.completions.create(
        model=MODEL, messages=HELLO, stream=True
    )
    gc.collect()
    assert "".join(stream.text_deltas()) == "You said: Hello"
    del stream
    gc.collect()
    assert not portal_threads()


def test_a_client_taken_apart_is_closed_when_the_last_part_goes(
    threaded_server: FakeLlamaAPI,
) -> None:
    """The client's thread runs while any of its parts is referenced, and stops with the last."""
    client = new_client(threaded_server)
    chat, models = client.chat, client.models
    del client
    models.list()
    del models
    gc.collect()
    assert len(portal_threads()) == 1
    chat.completions.create(model=MODEL, messages=HELLO)
    del chat
    gc.collect()
    assert not portal_threads()


def test_a_blocking_call_from_a_progress_callback_fails_at_once(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Calling the blocking client from its own loop thread raises instead of deadlocking."""
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"{}\n" * 10)
    seen: list[BaseException] = []

    def on_progress(sent: int, total: int) -> None:
        try:
            client.models.list()
        except ClientStateError as exc:
            seen.append(exc)

    with new_client(threaded_server) as client:
        file_id = client.uploads.upload_file(
            path, purpose="messages_finetune", on_progress=on_progress
        )
        assert file_id
        assert seen
        assert "its own event loop thread" in str(seen[0])
        assert "on_progress" in str(seen[0])
        assert len(client.models.list()) == 4


def test_closing_from_a_progress_callback_fails_at_once(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """close() on the client's own loop thread raises ClientStateError and closes nothing."""
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"{}\n")
    seen: list[BaseException] = []

    def on_progress(sent: int, total: int) -> None:
        try:
            client.close()
        except ClientStateError as exc:
            seen.append(exc)

    with new_client(threaded_server) as client:
        client.uploads.upload_file(path, purpose="messages_finetune", on_progress=on_progress)
        assert seen
        assert not client.closed


@pytest.mark.parametrize("cls", [AsyncLlamaClient, LlamaClient])
@pytest.mark.parametrize(
    "how",
    [pickle.dumps, copy.copy, copy.deepcopy, lambda client: pickle.dumps(client.models)],
    ids=["pickle", "copy", "deepcopy", "pickle-resource"],
)
def test_a_client_cannot_be_pickled(cls: type[Any], how: Any) -> None:
    """Pickling (or copying) a client says to create a client in each process."""
    client = cls(api_key="k")
    with pytest.raises(TypeError, match="create a client in each process"):
        how(client)


def test_a_client_finalized_on_its_own_loop_thread_closes_without_waiting(
    threaded_server: FakeLlamaAPI,
) -> None:
    """Finalized on its own loop thread (a garbage collection there), a client closes by itself."""
    client = new_client(threaded_server)
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    (thread,) = portal_threads()
    # What a collection of the last reference would do on that thread: run the finalizer there.
    client._portal.run_soon(client._portal._finalizer)
    thread.join(20)
    assert not thread.is_alive()
    assert client.closed
    assert stream.closed
