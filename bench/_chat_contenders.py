"""The clients under test for chat completions, plain (``chat``) and streamed (``stream``).

Each contender yields one call for the job's op: ``chat`` makes one non-streaming
``chat.completions.create`` and returns the answer (the first one is checked);
``stream`` makes one streamed completion, consumes every chunk, and raises
unless it got exactly ``job.expect_chunks`` of them, on every call. The SDK
runs with the standard library's JSON codec, and, in the ``[fast]`` rows, orjson's.

llama-api-client sends ``Accept: application/json`` even when it streams, and
the fake server answers that with a 400, as the hosted API does; so its
streamed calls pass ``extra_headers={"Accept": "text/event-stream"}``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, cast

import aiohttp
from _contenders import (
    MODEL_ID,
    AsyncCall,
    Codec,
    Job,
    SyncCall,
    async_contender,
    official_class,
    sdk_converter,
    sync_contender,
)

from llama_models import AsyncLlamaClient, LlamaClient

__all__ = [
    "CHAT_REPLY",
    "official_chat_async",
    "official_chat_sync",
    "raw_chat",
    "sdk_chat_async",
    "sdk_chat_async_fast",
    "sdk_chat_async_otel",
    "sdk_chat_blocking",
    "telemetry_version",
]

MESSAGES = [{"role": "user", "content": "Hello"}]
#: What the fake server answers ``MESSAGES`` with when no reply is scripted.
CHAT_REPLY = "You said: Hello"
_SSE = {"Accept": "text/event-stream"}


def _expect(count: int, job: Job) -> int:
    """Refuse a stream that yielded fewer (or more) chunks than the server sends."""
    if count != job.expect_chunks:
        raise RuntimeError(f"expected {job.expect_chunks} chunks in the stream, got {count}")
    return count


# -- raw aiohttp: the baseline -----------------------------------------------------------


@asynccontextmanager
async def _raw(job: Job) -> AsyncIterator[AsyncCall]:
    """The SDK's request, by hand: the same JSON body, the same headers, ``json.loads``.

    Streamed: ``Accept: text/event-stream``, the body read line by line, and every
    ``data: `` line decoded with ``json.loads``.
    """
    url = f"{job.base_url.rstrip('/')}/chat/completions"
    stream = job.op == "stream"
    payload: dict[str, object] = {"model": MODEL_ID, "messages": MESSAGES}
    if stream:
        payload["stream"] = True
    headers = {
        "Authorization": f"Bearer {job.api_key}",
        "User-Agent": f"bench-raw/0 aiohttp/{aiohttp.__version__}",
        "Accept": "text/event-stream" if stream else "application/json",
        "Content-Type": "application/json",
    }
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        def body() -> bytes:
            return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

        async def chat() -> object:
            async with session.post(url, data=body(), headers=headers) as resp:
                resp.raise_for_status()
                return json.loads(await resp.read())

        async def streamed() -> object:
            count = 0
            async with session.post(url, data=body(), headers=headers) as resp:
                resp.raise_for_status()
                async for line in resp.content:
                    if line.startswith(b"data: "):
                        json.loads(line[6:])
                        count += 1
            return _expect(count, job)

        yield streamed if stream else chat


raw_chat = async_contender("raw aiohttp", _raw)


# -- llama_models ------------------------------------------------------------------------


def telemetry_version() -> str | None:
    """The installed opentelemetry-sdk's version, or ``None`` (then the ``[otel]`` rows are skipped)."""
    try:
        return version("opentelemetry-sdk")
    except PackageNotFoundError:
        return None


def _telemetry() -> Any:
    """Telemetry recording into SDK providers that export nothing: the cost of making the data."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    from llama_models.otel import Telemetry

    return Telemetry(tracer_provider=TracerProvider(), meter_provider=MeterProvider())


@asynccontextmanager
async def _sdk_async(
    codec: Codec, job: Job, *, telemetry: bool = False
) -> AsyncIterator[AsyncCall]:
    async with AsyncLlamaClient(
        api_key=job.api_key,
        base_url=job.base_url,
        converter=sdk_converter(codec),
        telemetry=_telemetry() if telemetry else None,
    ) as client:
        create = client.chat.completions.create

        async def streamed() -> object:
            count = 0
            async for _ in await create(model=MODEL_ID, messages=MESSAGES, stream=True):
                count += 1
            return _expect(count, job)

        if job.op == "stream":
            yield streamed
        else:
            yield partial(create, model=MODEL_ID, messages=MESSAGES)


@contextmanager
def _sdk_blocking(codec: Codec, job: Job) -> Iterator[SyncCall]:
    with LlamaClient(
        api_key=job.api_key, base_url=job.base_url, converter=sdk_converter(codec)
    ) as client:
        create = client.chat.completions.create

        def streamed() -> object:
            count = 0
            for _ in create(model=MODEL_ID, messages=MESSAGES, stream=True):
                count += 1
            return _expect(count, job)

        if job.op == "stream":
            yield streamed
        else:
            yield partial(create, model=MODEL_ID, messages=MESSAGES)


sdk_chat_async = async_contender("llama_models async", partial(_sdk_async, "json"))
sdk_chat_async_fast = async_contender("llama_models async [fast]", partial(_sdk_async, "orjson"))
sdk_chat_async_otel = async_contender(
    "llama_models async [otel]", partial(_sdk_async, "json", telemetry=True)
)
sdk_chat_blocking = sync_contender("llama_models blocking", partial(_sdk_blocking, "json"))


# -- llama-api-client (optional) ---------------------------------------------------------


class _OfficialStream(Protocol):
    def __enter__(self) -> Iterable[object]: ...
    def __exit__(self, *exc: object) -> None: ...


class _OfficialAsyncStream(Protocol):
    async def __aenter__(self) -> _OfficialAsyncStream: ...
    async def __aexit__(self, *exc: object) -> None: ...
    def __aiter__(self) -> AsyncIterator[object]: ...


class _Completions(Protocol):
    # A plain answer, or with stream=True an _OfficialStream (async: an _OfficialAsyncStream).
    def create(self, **kwargs: Any) -> Any: ...


class _Chat(Protocol):
    @property
    def completions(self) -> _Completions: ...


class _OfficialClient(Protocol):
    @property
    def chat(self) -> _Chat: ...
    def close(self) -> Any: ...  # returns None, or a coroutine on the async client


def _official(name: str, job: Job) -> _OfficialClient:
    make = cast("Callable[..., _OfficialClient]", official_class(name))
    return make(api_key=job.api_key, base_url=job.base_url)


@contextmanager
def _official_sync(job: Job) -> Iterator[SyncCall]:
    client = _official("LlamaAPIClient", job)
    create = client.chat.completions.create

    def streamed() -> object:
        count = 0
        answer = create(model=MODEL_ID, messages=MESSAGES, stream=True, extra_headers=_SSE)
        with cast(_OfficialStream, answer) as chunks:
            for _ in chunks:
                count += 1
        return _expect(count, job)

    try:
        if job.op == "stream":
            yield streamed
        else:
            yield partial(create, model=MODEL_ID, messages=MESSAGES)
    finally:
        client.close()


@asynccontextmanager
async def _official_async(job: Job) -> AsyncIterator[AsyncCall]:
    client = _official("AsyncLlamaAPIClient", job)
    create = client.chat.completions.create

    async def streamed() -> object:
        count = 0
        answer = await create(model=MODEL_ID, messages=MESSAGES, stream=True, extra_headers=_SSE)
        async with cast(_OfficialAsyncStream, answer) as chunks:
            async for _ in chunks:
                count += 1
        return _expect(count, job)

    try:
        if job.op == "stream":
            yield streamed
        else:
            yield partial(create, model=MODEL_ID, messages=MESSAGES)
    finally:
        await client.close()


official_chat_sync = sync_contender("llama-api-client sync", _official_sync)
official_chat_async = async_contender("llama-api-client async", _official_async)
