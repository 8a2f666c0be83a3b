"""proxy= and ssl= on both clients: an explicit proxy over the environment's, and corporate CAs."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import anyio
import pytest
import trustme

from llama_models import (
    APIConnectionError,
    AsyncLlamaClient,
    InvalidArgumentError,
    LlamaClient,
    NotFoundError,
)
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio


async def test_an_explicit_proxy_overrides_the_environment(
    server: FakeLlamaAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """proxy= sends requests through that proxy, not the one HTTP_PROXY names."""
    async with FakeLlamaAPI() as ignored, FakeLlamaAPI() as proxy:
        monkeypatch.setenv("HTTP_PROXY", ignored.origin)
        async with AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, proxy=proxy.origin
        ) as client:
            with pytest.raises(NotFoundError):  # the fake is no proxy: it cannot route the URL
                await client.models.list()
        (through,) = proxy.requests
        assert ignored.requests == []
    assert through.path == server.base_url + "/models"


@pytest.mark.parametrize("blocking", [False, True], ids=["async", "blocking"])
async def test_proxy_false_ignores_the_environment(
    server: FakeLlamaAPI, monkeypatch: pytest.MonkeyPatch, blocking: bool
) -> None:
    """proxy=False connects directly even when HTTP_PROXY is set."""
    async with FakeLlamaAPI() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.origin)
        if blocking:
            with LlamaClient(api_key=server.api_key, base_url=server.base_url, proxy=False) as sync:
                models = await anyio.to_thread.run_sync(sync.models.list)
        else:
            async with AsyncLlamaClient(
                api_key=server.api_key, base_url=server.base_url, proxy=False
            ) as client:
                models = await client.models.list()
        assert len(models) == 4
        assert proxy.requests == []


@pytest.mark.parametrize(
    ("proxy", "match"),
    [
        ("socks5://user:hunter2@proxy:1080", "http:// or https://"),
        ("proxy:3128", "http:// or https://"),
        ("http://user:hunter2@proxy:99999", "not a valid URL"),
        (3128, "proxy must be a URL"),
        (True, "proxy must be a URL"),
    ],
)
def test_a_bad_proxy_is_refused_without_showing_it(proxy: object, match: str) -> None:
    """A proxy that is not an http(s) URL is refused at once; the message never shows it."""
    with pytest.raises(InvalidArgumentError, match=match) as raised:
        LlamaClient(api_key="k", proxy=proxy)  # type: ignore[arg-type]
    assert "hunter2" not in str(raised.value)


@pytest.fixture
def ca_bundle(certificate_authority: trustme.CA, tmp_path: Path) -> Path:
    """The private CA's certificate as a PEM file, as a corporate CA bundle is."""
    path = tmp_path / "corporate-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return path


async def test_a_ca_bundle_path_is_trusted(
    tls_fake: tuple[FakeLlamaAPI, str], ca_bundle: Path
) -> None:
    """ssl= a CA bundle path makes a server with a certificate from that CA trusted."""
    fake, url = tls_fake
    async with AsyncLlamaClient(api_key=fake.api_key, base_url=url, ssl=ca_bundle) as client:
        assert len(await client.models.list()) == 4
    async with AsyncLlamaClient(api_key=fake.api_key, base_url=url, max_retries=0) as untrusting:
        with pytest.raises(APIConnectionError, match="certificate"):
            await untrusting.models.list()


async def test_an_ssl_context_is_used_as_given(
    tls_fake: tuple[FakeLlamaAPI, str], certificate_authority: trustme.CA
) -> None:
    """ssl= an SSLContext of the caller's is used for the client's connections."""
    fake, url = tls_fake
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    async with AsyncLlamaClient(api_key=fake.api_key, base_url=url, ssl=context) as client:
        assert len(await client.models.list()) == 4


async def test_the_blocking_client_takes_a_ca_bundle(
    tls_fake: tuple[FakeLlamaAPI, str], ca_bundle: Path
) -> None:
    """LlamaClient(ssl=...) trusts the CA bundle as the async client does."""
    fake, url = tls_fake
    with LlamaClient(api_key=fake.api_key, base_url=url, ssl=str(ca_bundle)) as client:
        models = await anyio.to_thread.run_sync(client.models.list)
    assert len(models) == 4


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("/no/such/ca.pem", "is not a file"),
        (True, "ssl must be an ssl.SSLContext or the path"),
        (False, "ssl must be an ssl.SSLContext or the path"),
    ],
)
def test_a_bad_ssl_setting_is_refused(value: object, match: str) -> None:
    """ssl= refuses a missing file and anything but a context or a path, at construction."""
    with pytest.raises(InvalidArgumentError, match=match):
        AsyncLlamaClient(api_key="k", ssl=value)  # type: ignore[arg-type]


def test_a_file_that_is_no_ca_bundle_is_refused(tmp_path: Path) -> None:
    """A file that holds no certificate is refused when the client is made."""
    path = tmp_path / "not-a-ca.pem"
    path.write_text("hello")
    with pytest.raises(InvalidArgumentError, match="could not be loaded"):
        LlamaClient(api_key="k", ssl=path)


async def test_ssl_with_an_own_session_is_refused() -> None:
    """With http_session, ssl= is refused: the session's own connector decides."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidArgumentError, match="http_session"):
            AsyncLlamaClient(api_key="k", http_session=session, ssl=ssl.create_default_context())
