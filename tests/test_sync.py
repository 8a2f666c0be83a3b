"""The blocking facade: one portal per client, threads, running loops, fork, GC, Ctrl-C."""

from __future__ import annotations

import gc
import inspect
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from script_support import run_script, start_script

from llama_models import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncBatch,
    AsyncLlamaClient,
    AsyncParsedChatCompletionStream,
    Batch,
    ClientStateError,
    InternalServerError,
    InvalidArgumentError,
    LlamaClient,
    ParsedChatCompletionStream,
    RateLimitError,
)
from llama_models._chat_stream import AsyncChatCompletionStream
from llama_models._resources.chat import AsyncCompletions, AsyncCompletionsWithResponse
from llama_models._resources.models import AsyncModels, AsyncModelsWithResponse
from llama_models._resources.moderations import AsyncModerations, AsyncModerationsWithResponse
from llama_models._resources.uploads import AsyncUploads, AsyncUploadsWithResponse
from llama_models._sync._stream import ChatCompletionStream
from llama_models._sync.chat import Completions, CompletionsWithResponse
from llama_models._sync.models import Models, ModelsWithResponse
from llama_models._sync.moderations import Moderations, ModerationsWithResponse
from llama_models._sync.uploads import Uploads, UploadsWithResponse
from llama_models.testing import FakeLlamaAPI, Fault

TWINS = [
    (AsyncLlamaClient, LlamaClient),
    (AsyncModels, Models),
    (AsyncModelsWithResponse, ModelsWithResponse),
    (AsyncCompletions, Completions),
    (AsyncCompletionsWithResponse, CompletionsWithResponse),
    (AsyncModerations, Moderations),
    (AsyncModerationsWithResponse, ModerationsWithResponse),
    (AsyncUploads, Uploads),
    (AsyncUploadsWithResponse, UploadsWithResponse),
]
RENAMED = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}


def _public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in vars(cls).items()
        if callable(member)
        and (not name.startswith("_") or name in RENAMED or name in RENAMED.values())
    }


@pytest.mark.parametrize(("async_cls", "sync_cls"), TWINS, ids=lambda c: c.__name__)
def test_every_async_method_has_an_identical_blocking_twin(async_cls: type, sync_cls: type) -> None:
    """Each public async method has a sync twin with the same signature and docstring."""
    async_methods = _public_methods(async_cls)
    sync_methods = _public_methods(sync_cls)
    assert {RENAMED.get(name, name) for name in async_methods} == set(sync_methods)
    for name, async_fn in async_methods.items():
        sync_fn = sync_methods[RENAMED.get(name, name)]
        # run_tools and batch return an iterator at once on both clients: iterating it does
        # the I/O; with_options and copy make a client and send nothing.
        awaited = name not in ("run_tools", "batch", "with_options", "copy")
        assert inspect.iscoroutinefunction(async_fn) == awaited, name
        assert not inspect.iscoroutinefunction(sync_fn)
        if name in RENAMED:
            continue
        assert _blocking(inspect.signature(async_fn)) == inspect.signature(sync_fn), name
        assert sync_fn.__doc__ == async_fn.__doc__, name


def _blocking(signature: inspect.Signature) -> inspect.Signature:
    """The signature with async result types (``AsyncChatCompletionStream``) made blocking."""
    returns = signature.return_annotation
    if isinstance(returns, str):
        for name in (
            "ChatCompletionStream",
            "ParsedChatCompletionStream",
            "ToolRunner",
            "Batch",
            "LlamaClient",
        ):
            returns = returns.replace(f"Async{name}", name)
    return signature.replace(return_annotation=returns)


STREAM_RENAMED = {
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
}


def _members(cls: type) -> dict[str, Any]:
    """The attributes of *cls*, inherited ones included (but not object's)."""
    return {
        name: member for klass in reversed(cls.__mro__[:-1]) for name, member in vars(klass).items()
    }


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"),
    [
        (AsyncChatCompletionStream, ChatCompletionStream),
        (AsyncParsedChatCompletionStream, ParsedChatCompletionStream),
        (AsyncBatch, Batch),
    ],
)
def test_the_blocking_stream_mirrors_the_async_stream(async_cls: type, sync_cls: type) -> None:
    """Both stream classes offer the same methods and properties, with the same docs."""
    async_members = {
        STREAM_RENAMED.get(name, name): member
        for name, member in _members(async_cls).items()
        if not name.startswith("_") or name in STREAM_RENAMED
    }
    sync_members = {
        name: member
        for name, member in _members(sync_cls).items()
        if not name.startswith("_") or name in STREAM_RENAMED.values()
    }
    assert set(async_members) == set(sync_members)
    for name, member in async_members.items():
        if name.startswith("_"):
            continue
        mirror = sync_members[name]
        assert isinstance(mirror, property) == isinstance(member, property), name
        assert mirror.__doc__ == member.__doc__, name


def test_both_clients_expose_the_same_resources() -> None:
    """Resource namespaces and properties match between the two clients."""
    async_client = AsyncLlamaClient(api_key="k")
    with LlamaClient(api_key="k") as sync_client:
        public = {name for name in vars(async_client) if not name.startswith("_")}
        assert public == {name for name in vars(sync_client) if not name.startswith("_")}
        for name in public:
            resource = getattr(sync_client, name)
            if name == "chat":  # a namespace of namespaces
                assert set(vars(resource)) == set(vars(async_client.chat)) == {"completions"}
                resource = resource.completions
            assert hasattr(resource, "with_response")


def test_calls_from_many_threads_share_one_client(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI
) -> None:
    """One blocking client serves calls from several threads at once."""
    ids = ["Llama-3.3-70B-Instruct", "Llama-3.3-8B-Instruct"] * 20
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda model_id: sync_client.models.retrieve(model_id).id, ids))
    assert found == ids
    assert len(threaded_server.requests) == len(ids)
    portals = [t for t in threading.enumerate() if t.name == "llama-models-portal"]
    assert len(portals) == 1


@pytest.mark.anyio
async def test_blocking_client_works_inside_a_running_event_loop(
    threaded_server: FakeLlamaAPI,
) -> None:
    """A blocking call made from a coroutine (a Jupyter cell) runs on the client's own loop."""
    with LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as llama:
        assert len(llama.models.list()) == 4


def test_closed_client_refuses_calls(threaded_server: FakeLlamaAPI) -> None:
    """After close() a call raises ClientStateError; close() again is harmless."""
    llama = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    llama.models.list()
    llama.close()
    llama.close()
    assert llama.closed
    with pytest.raises(ClientStateError, match="closed"):
        llama.models.list()
    assert not [t for t in threading.enumerate() if t.name == "llama-models-portal"]


def test_unused_client_starts_no_thread() -> None:
    """A client that never made a call has no thread to stop."""
    before = threading.active_count()
    llama = LlamaClient(api_key="k")
    assert threading.active_count() == before
    llama.close()
    assert llama.closed


def test_garbage_collected_client_is_cleaned_up(threaded_server: FakeLlamaAPI) -> None:
    """A client dropped without close() closes its session and stops its thread at GC."""
    llama = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    llama.models.list()
    finalizer = llama._portal._finalizer
    del llama
    gc.collect()
    assert not finalizer.alive
    assert not [t for t in threading.enumerate() if t.name == "llama-models-portal"]


def test_client_left_open_at_exit_is_closed_quietly(threaded_server: FakeLlamaAPI) -> None:
    """A script that never closes its client exits cleanly, without unclosed-session warnings."""
    result = run_script(
        """
        import sys
        from llama_models import LlamaClient
        client = LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2])
        print(len(client.models.list()))
        """,
        threaded_server,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "4")
    assert result.stderr == ""


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_forked_child_gets_a_clear_error(sync_client: LlamaClient) -> None:
    """Using a client in a forked child raises ClientStateError instead of hanging."""
    sync_client.models.list()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits without reporting coverage
        code = 2
        try:
            sync_client.models.list()
        except ClientStateError as exc:
            code = 0 if "forked child" in str(exc) else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(sync_client.models.list()) == 4


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_interrupts_a_blocking_call_promptly(threaded_server: FakeLlamaAPI) -> None:
    """Ctrl-C during a stalled call raises KeyboardInterrupt and leaves the client usable."""
    threaded_server.enqueue(Fault.stall())
    script = textwrap.dedent(
        """
        import sys
        from llama_models import LlamaClient
        with LlamaClient(api_key=sys.argv[1], base_url=sys.argv[2]) as client:
            try:
                client.models.list()
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            print(len(client.models.list()), flush=True)
        """
    )
    with start_script(script, threaded_server) as proc:
        threaded_server.wait_for_requests(1, timeout=20)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert stdout.split() == ["interrupted", "4"], stderr
    assert proc.returncode == 0
    assert stderr == ""
    first, second = threaded_server.requests
    assert first.connection_id != second.connection_id


@pytest.mark.parametrize(
    ("faults", "error", "kwargs"),
    [
        ([Fault.error(500, "boom")], InternalServerError, {"max_retries": 0}),
        ([Fault.rate_limited(retry_after="600")], RateLimitError, {}),
        ([Fault.drop(), Fault.drop()], APIConnectionError, {"max_retries": 0}),
        ([Fault.malformed()], APIResponseValidationError, {}),
        ([Fault.stall()], APITimeoutError, {"timeout": 0.2}),
    ],
    ids=["status", "rate-limit", "dropped", "malformed", "timeout"],
)
def test_blocking_client_raises_the_same_typed_errors(
    threaded_server: FakeLlamaAPI,
    faults: list[Fault],
    error: type[Exception],
    kwargs: dict[str, Any],
) -> None:
    """Each fault raises the same typed error through the blocking client as through the async one."""
    threaded_server.enqueue(*faults)
    with LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, **kwargs
    ) as llama:
        with pytest.raises(error):
            llama.models.list()
        assert len(llama.models.list()) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_key": "bad key"},
        {"api_key": "k", "base_url": "http://example.com/v1"},
        {"api_key": "k", "timeout": 0},
    ],
)
def test_blocking_client_refuses_bad_settings(kwargs: dict[str, Any]) -> None:
    """The blocking client validates its settings like the async one, starting no thread."""
    before = threading.active_count()
    with pytest.raises(InvalidArgumentError):
        LlamaClient(**kwargs)
    assert threading.active_count() == before


def test_closing_during_a_call_fails_that_call_clearly(threaded_server: FakeLlamaAPI) -> None:
    """A call still running when another thread closes the client ends with a typed error."""
    threaded_server.enqueue(Fault.stall())
    llama = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            llama.models.list()
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    threaded_server.wait_for_requests(1)
    llama.close()
    caller.join(timeout=20)
    assert not caller.is_alive()
    (error,) = outcome
    assert isinstance(error, (ClientStateError, APIConnectionError)), repr(error)
