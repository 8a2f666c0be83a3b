"""with_options() and copy(): clients with other settings over the parent's connection pool."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from llama_models import (
    APITimeoutError,
    AsyncLlamaClient,
    ClientStateError,
    InternalServerError,
    InvalidArgumentError,
    LlamaClient,
)
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio


async def test_derived_clients_reuse_the_parents_connection(server: FakeLlamaAPI) -> None:
    """Calls of clients derived in a loop all go over the parent's one pooled connection."""
    async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        await client.models.list()
        for attempt in range(20):
            await client.with_options(timeout=30 + attempt).models.list()
        await client.models.list()
    assert {request.connection_id for request in server.requests} == {
        server.requests[0].connection_id
    }


async def test_derived_settings_replace_or_add_to_the_parents(server: FakeLlamaAPI) -> None:
    """Given settings replace the parent's; default headers and query are added to its own."""
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        default_headers={"X-Team": "a"},
        default_query={"p": "1"},
        timeout=5,
    ) as client:
        derived = client.copy(
            default_headers={"X-Job": "b"}, default_query={"d": "2"}, timeout=None
        )
        assert (derived.timeout, client.timeout) == (None, 5)
        assert derived.max_retries == client.max_retries
        await derived.models.list()
        await client.models.list()
    from_derived, from_parent = server.requests
    assert (from_derived.headers["X-Team"], from_derived.headers["X-Job"]) == ("a", "b")
    assert from_derived.query == "p=1&d=2"
    assert "X-Job" not in from_parent.headers
    assert from_parent.query == "p=1"


async def test_derived_timeout_and_retries_apply_to_its_calls(server: FakeLlamaAPI) -> None:
    """A derived client's timeout and max_retries govern its calls, not the parent's."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=3
    ) as client:
        strict = client.with_options(timeout=0.2, max_retries=0)
        server.enqueue(Fault.delay(1), path="/v1/models")
        with pytest.raises(APITimeoutError, match=r"after 0\.2 s"):
            await strict.models.list()
        server.enqueue(Fault.error(503), path="/v1/models")
        with pytest.raises(InternalServerError):
            await strict.models.list()


async def test_closing_a_derived_client_leaves_the_parent_working(server: FakeLlamaAPI) -> None:
    """A closed derived client refuses calls; its parent and siblings go on."""
    async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        derived = client.with_options(max_retries=0)
        sibling = client.with_options(max_retries=1)
        await derived.models.list()
        async with derived:
            pass
        assert derived.closed
        assert not client.closed
        with pytest.raises(ClientStateError):
            await derived.models.list()
        assert len(await client.models.list()) == 4
        assert len(await sibling.models.list()) == 4


async def test_closing_the_parent_closes_every_derived_client(server: FakeLlamaAPI) -> None:
    """After the parent closes, a derived client (started or not) raises ClientStateError."""
    client = AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url)
    started = client.with_options(timeout=10)
    fresh = client.with_options(timeout=10)
    grandchild = started.with_options(max_retries=0)
    await started.models.list()
    await client.aclose()
    for derived in (started, fresh, grandchild):
        assert derived.closed
        with pytest.raises(ClientStateError, match="closed"):
            await derived.models.list()


async def test_a_derived_client_may_make_the_first_call(server: FakeLlamaAPI) -> None:
    """A derived client's first call starts the parent's pool, which the parent then uses."""
    async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        await client.with_options(timeout=10).models.list()
        await client.models.list()
    first, second = server.requests
    assert first.connection_id == second.connection_id


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"timeout": -1}, "timeout must be positive"),
        ({"max_retries": "2"}, "max_retries"),
        ({"default_headers": {"Host": "x"}}, "cannot be overridden"),
        ({"default_query": {"a": 1}}, "default_query"),
    ],
)
def test_bad_derived_settings_are_refused(options: dict[str, object], match: str) -> None:
    """with_options checks what it is given as the client does, and takes no pool setting."""
    client = AsyncLlamaClient(api_key="k")
    with pytest.raises(InvalidArgumentError, match=match):
        client.with_options(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["api_key", "base_url", "max_connections", "proxy", "ssl"])
def test_pool_and_credential_settings_are_not_derived(name: str) -> None:
    """with_options takes no setting of the shared pool or the key: a TypeError names it."""
    client = AsyncLlamaClient(api_key="k")
    options: dict[str, Any] = {name: None}
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        client.with_options(**options)


def _portal_threads() -> int:
    return sum(thread.name == "llama-models-portal" for thread in threading.enumerate())


def test_blocking_derived_clients_share_the_loop_thread(threaded_server: FakeLlamaAPI) -> None:
    """A blocking derived client runs on its parent's loop thread and connection."""
    before = _portal_threads()
    with LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as client:
        client.models.list()
        derived = client.with_options(timeout=30, default_headers={"X-Job": "b"})
        assert isinstance(derived, LlamaClient)
        derived.models.list()
        assert _portal_threads() == before + 1
        derived.close()
        assert derived.closed
        with pytest.raises(ClientStateError):
            derived.models.list()
        client.models.list()
    first, second, third = threaded_server.requests
    assert second.headers["X-Job"] == "b"
    assert first.connection_id == second.connection_id == third.connection_id


def test_closing_a_blocking_parent_closes_its_derived_clients(
    threaded_server: FakeLlamaAPI,
) -> None:
    """Once the blocking parent is closed, its derived clients raise ClientStateError."""
    client = LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url)
    derived = client.copy(max_retries=0)
    derived.models.list()
    client.close()
    assert derived.closed
    with pytest.raises(ClientStateError):
        derived.models.list()
    derived.close()  # harmless


async def test_a_blocking_derived_client_works_from_a_worker_thread(server: FakeLlamaAPI) -> None:
    """The blocking derived client serves calls from another thread, as its parent does."""
    with LlamaClient(api_key=server.api_key, base_url=server.base_url) as client:
        derived = client.with_options()
        models = await anyio.to_thread.run_sync(derived.models.list)
    assert len(models) == 4
