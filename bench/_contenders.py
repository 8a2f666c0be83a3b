"""The clients under test, and the drivers that time them.

A contender is a function ``run(job) -> seconds``: it opens its client, makes
``job.warmup`` untimed calls, then times ``job.calls`` calls made by
``job.workers`` concurrent workers, and closes the client again. Async
contenders get a fresh event loop per run (`asyncio.run`); blocking ones run in
the calling thread, or in a thread pool when ``job.workers > 1``.

The SDK runs with the converter of each JSON codec: the standard library's
(``make_converter(codec="json")``, the plain rows) and orjson's (``codec="orjson"``,
the ``[fast]`` rows, run only when orjson is installed).

llama-api-client is optional and is loaded with `importlib`, typed through the
small protocols below, so this file type-checks whether it is installed or not.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import itertools
import json
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Sequence,
    Sized,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Literal, Protocol, cast

import aiohttp
import cattrs

from llama_models import AsyncLlamaClient, LlamaClient, make_converter

__all__ = [
    "MODEL_ID",
    "AsyncCall",
    "Codec",
    "Contender",
    "Job",
    "Op",
    "SyncCall",
    "async_contender",
    "official_async",
    "official_class",
    "official_sync",
    "official_version",
    "orjson_version",
    "raw_aiohttp",
    "sdk_async",
    "sdk_async_fast",
    "sdk_blocking",
    "sdk_converter",
    "sync_contender",
]

#: The model every ``retrieve`` asks for (one of the fake server's default four).
MODEL_ID = "Llama-3.3-70B-Instruct"

Op = Literal["list", "retrieve", "chat", "stream"]
#: The SDK's JSON codecs: the standard library's, or orjson's (the ``[fast]`` extra).
Codec = Literal["json", "orjson"]
AsyncCall = Callable[[], Awaitable[object]]
SyncCall = Callable[[], object]


@dataclass(frozen=True)
class Job:
    """One timed block: which call, against which server, how often, how concurrently."""

    base_url: str
    api_key: str
    op: Op
    calls: int
    warmup: int
    workers: int = 1
    #: For ``list``: how many models each answer must hold (checked once, untimed).
    expect_models: int | None = None
    #: For ``chat``: the reply text the answer must carry (checked once, untimed).
    expect_text: str | None = None
    #: For ``stream``: how many chunks every stream must yield (checked on every call).
    expect_chunks: int | None = None


@dataclass(frozen=True)
class Contender:
    """A named client; ``run(job)`` returns the seconds its ``job.calls`` calls took."""

    name: str
    run: Callable[[Job], float]


# -- drivers -----------------------------------------------------------------------------


async def _drive_async(call: AsyncCall, calls: int, workers: int) -> float:
    """Make *calls* calls from *workers* tasks pulling from one counter; return seconds."""
    counter = itertools.count()

    async def worker() -> None:
        while next(counter) < calls:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


def _drive_sync(call: SyncCall, calls: int, pool: ThreadPoolExecutor | None, workers: int) -> float:
    """The blocking twin of `_drive_async`: the calling thread, or *workers* pool threads."""
    counter = itertools.count()  # next() on a count is atomic under the GIL

    def worker() -> None:
        while next(counter) < calls:
            call()

    started = time.perf_counter()
    if pool is None:
        worker()
    else:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result()
    return time.perf_counter() - started


def _pool(workers: int) -> AbstractContextManager[ThreadPoolExecutor | None]:
    """A pool of *workers* threads, or none for one worker (the calling thread)."""
    return ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext()


def _reply_text(result: object) -> object:
    """The reply text of a chat completion: a JSON dict, an attrs or a pydantic object."""
    if isinstance(result, dict):
        return result["completion_message"]["content"]["text"]
    content = getattr(getattr(result, "completion_message", None), "content", None)
    return getattr(content, "text", content)


def _check(result: object, job: Job) -> None:
    """Make sure a warm-up answer is the real thing, so no contender times an error path."""
    if job.expect_text is not None:
        text = _reply_text(result)
        if text != job.expect_text:
            raise RuntimeError(f"expected the reply {job.expect_text!r}, got {text!r}")
    if job.expect_models is None:
        return
    data = result.get("data") if isinstance(result, dict) else result
    size = len(data) if isinstance(data, Sized) else -1
    if size != job.expect_models:
        raise RuntimeError(f"expected {job.expect_models} models in the list, got {size}")


def async_contender(
    name: str, client: Callable[[Job], AbstractAsyncContextManager[AsyncCall]]
) -> Contender:
    """A contender whose *client* yields an async call; each run gets its own event loop."""

    async def block(job: Job) -> float:
        async with client(job) as call:
            _check(await call(), job)
            await _drive_async(call, job.warmup, job.workers)
            gc.collect()
            return await _drive_async(call, job.calls, job.workers)

    return Contender(name, lambda job: asyncio.run(block(job)))


def sync_contender(
    name: str, client: Callable[[Job], AbstractContextManager[SyncCall]]
) -> Contender:
    """A contender whose *client* yields a blocking call, shared by the pool's threads."""

    def run(job: Job) -> float:
        with client(job) as call, _pool(job.workers) as pool:
            _check(call(), job)
            _drive_sync(call, job.warmup, pool, job.workers)
            gc.collect()
            return _drive_sync(call, job.calls, pool, job.workers)

    return Contender(name, run)


# -- raw aiohttp: the baseline -----------------------------------------------------------


@asynccontextmanager
async def _raw_aiohttp(job: Job) -> AsyncIterator[AsyncCall]:
    """One ClientSession, the same connector limit as the SDK's, ``json.loads`` of the body."""
    base = job.base_url.rstrip("/")
    url = f"{base}/models" if job.op == "list" else f"{base}/models/{MODEL_ID}"
    headers = {"Authorization": f"Bearer {job.api_key}"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> object:
            async with session.get(url, headers=headers) as resp:
                resp.raise_for_status()
                return json.loads(await resp.read())

        yield call


raw_aiohttp = async_contender("raw aiohttp", _raw_aiohttp)


# -- llama_models ------------------------------------------------------------------------


def orjson_version() -> str | None:
    """The installed orjson version, or ``None`` when it cannot be imported."""
    try:
        importlib.import_module("orjson")
        return version("orjson")
    except (ImportError, PackageNotFoundError):
        return None


@functools.cache
def sdk_converter(codec: Codec) -> cattrs.Converter:
    """One converter per codec for the whole run, as an application keeps one."""
    return make_converter(codec=codec)


@asynccontextmanager
async def _sdk_async(codec: Codec, job: Job) -> AsyncIterator[AsyncCall]:
    async with AsyncLlamaClient(
        api_key=job.api_key, base_url=job.base_url, converter=sdk_converter(codec)
    ) as client:
        if job.op == "list":
            yield client.models.list
        else:
            yield partial(client.models.retrieve, MODEL_ID)


@contextmanager
def _sdk_blocking(codec: Codec, job: Job) -> Iterator[SyncCall]:
    with LlamaClient(
        api_key=job.api_key, base_url=job.base_url, converter=sdk_converter(codec)
    ) as client:
        if job.op == "list":
            yield client.models.list
        else:
            yield partial(client.models.retrieve, MODEL_ID)


sdk_async = async_contender("llama_models async", partial(_sdk_async, "json"))
sdk_async_fast = async_contender("llama_models async [fast]", partial(_sdk_async, "orjson"))
sdk_blocking = sync_contender("llama_models blocking", partial(_sdk_blocking, "json"))


# -- llama-api-client (optional) ---------------------------------------------------------


class _OfficialModels(Protocol):
    def list(self) -> Sequence[object]: ...
    def retrieve(self, model: str) -> object: ...


class _OfficialAsyncModels(Protocol):
    async def list(self) -> Sequence[object]: ...
    async def retrieve(self, model: str) -> object: ...


class _OfficialClient(Protocol):
    @property
    def models(self) -> _OfficialModels: ...
    def close(self) -> None: ...


class _OfficialAsyncClient(Protocol):
    @property
    def models(self) -> _OfficialAsyncModels: ...
    async def close(self) -> None: ...


def official_version() -> str | None:
    """The installed llama-api-client version, or ``None`` when it cannot be imported."""
    try:
        importlib.import_module("llama_api_client")
        return version("llama-api-client")
    except (ImportError, PackageNotFoundError):
        return None


def official_class(name: str) -> object:
    """A class of llama_api_client, which the caller casts to its protocol."""
    return cast(object, getattr(importlib.import_module("llama_api_client"), name))


@contextmanager
def _official_sync(job: Job) -> Iterator[SyncCall]:
    make = cast("Callable[..., _OfficialClient]", official_class("LlamaAPIClient"))
    client = make(api_key=job.api_key, base_url=job.base_url)
    try:
        if job.op == "list":
            yield client.models.list
        else:
            yield partial(client.models.retrieve, MODEL_ID)
    finally:
        client.close()


@asynccontextmanager
async def _official_async(job: Job) -> AsyncIterator[AsyncCall]:
    make = cast("Callable[..., _OfficialAsyncClient]", official_class("AsyncLlamaAPIClient"))
    client = make(api_key=job.api_key, base_url=job.base_url)
    try:
        if job.op == "list":
            yield client.models.list
        else:
            yield partial(client.models.retrieve, MODEL_ID)
    finally:
        await client.close()


official_sync = sync_contender("llama-api-client sync", _official_sync)
official_async = async_contender("llama-api-client async", _official_async)
