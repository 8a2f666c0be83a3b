"""Shared fixtures: a clean environment, a strict converter, fake servers and clients."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import cattrs
import pytest
import trustme
from aiohttp import web
from limiter.support import NO_REDIS_SERVER, redis_server

from llama_models import AsyncLlamaClient, LlamaClient
from llama_models._converter import make_converter
from llama_models.testing import FakeLlamaAPI

ENV_VARS = (
    "LLAMA_API_KEY",
    "LLAMA_API_BASE_URL",
    "LLAMA_API_CLIENT_BASE_URL",
    "LLAMA_LOG",
    "LLAMA_API_CLIENT_LOG",
    *(
        variant
        for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        for variant in (name, name.upper())
    ),
)


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp runs on asyncio only."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own key, base URL or proxy."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def strict_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys, so the fake server cannot drift.

    It decodes with the standard library; test_codecs compares that with orjson.
    """
    return make_converter(strict=True, codec="json")


@pytest.fixture
async def server() -> AsyncIterator[FakeLlamaAPI]:
    """A fake Llama API on the test's own event loop."""
    async with FakeLlamaAPI() as fake:
        yield fake


@pytest.fixture
async def client(
    server: FakeLlamaAPI, strict_converter: cattrs.Converter
) -> AsyncIterator[AsyncLlamaClient]:
    """An async client pointed at `server`, with the strict converter, closed after the test."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, converter=strict_converter
    ) as llama:
        yield llama


@pytest.fixture
def threaded_server() -> Iterator[FakeLlamaAPI]:
    """A fake Llama API on its own thread, for blocking clients and subprocesses."""
    with FakeLlamaAPI() as fake:
        yield fake


@pytest.fixture(params=["json", "orjson"])
async def codec_client(
    request: pytest.FixtureRequest, server: FakeLlamaAPI
) -> AsyncIterator[AsyncLlamaClient]:
    """An async client with a strict converter of either codec, for answers that differ by it."""
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        converter=make_converter(strict=True, codec=request.param),
    ) as llama:
        yield llama


@pytest.fixture
def sync_client(
    threaded_server: FakeLlamaAPI, strict_converter: cattrs.Converter
) -> Iterator[LlamaClient]:
    """A blocking client pointed at `threaded_server`, with the strict converter, closed after."""
    with LlamaClient(
        api_key=threaded_server.api_key,
        base_url=threaded_server.base_url,
        converter=strict_converter,
    ) as llama:
        yield llama


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    """A private certificate authority that nothing trusts by default."""
    return trustme.CA()


@pytest.fixture
async def tls_fake(certificate_authority: trustme.CA) -> AsyncIterator[tuple[FakeLlamaAPI, str]]:
    """A fake Llama API's app served over TLS with a certificate from a private CA, and its URL."""
    fake = FakeLlamaAPI()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    yield fake, f"https://127.0.0.1:{runner.addresses[0][1]}/v1"
    await runner.cleanup()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server started for this test session, or a skip without one."""
    if shutil.which("redis-server") is None:
        pytest.skip(NO_REDIS_SERVER)
    # A short folder name: a Unix socket's path may not be longer than about 100 bytes.
    folder: Path = tmp_path_factory.mktemp("redis")
    with redis_server(folder) as url:
        yield url
