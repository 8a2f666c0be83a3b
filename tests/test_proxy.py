"""Proxies come from the environment, resolved once per client."""

from __future__ import annotations

import pytest

from llama_models import AsyncLlamaClient, NotFoundError
from llama_models._config import environment_proxy
from llama_models.testing import FakeLlamaAPI

pytestmark = pytest.mark.anyio

API = "https://api.llama.com/v1/"


@pytest.mark.parametrize(
    ("env", "proxy"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        ({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, "http://lower:1"),
        ({"HTTP_PROXY": "http://plain:3128"}, None),
        ({"ALL_PROXY": "http://all:3128"}, "http://all:3128"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "llama.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": ".llama.com, other"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "notllama.com"}, "http://p:1"),
        ({"HTTPS_PROXY": ""}, None),
    ],
)
def test_environment_proxy(env: dict[str, str], proxy: str | None) -> None:
    """HTTPS_PROXY/ALL_PROXY apply to the API host unless NO_PROXY covers it; lower case wins."""
    assert environment_proxy(API, env) == proxy


async def test_requests_go_through_the_proxy(
    server: FakeLlamaAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, the request goes to the proxy in absolute form."""
    async with FakeLlamaAPI() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.origin)
        async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as llama:
            with pytest.raises(NotFoundError):  # the fake is no proxy: it cannot route the URL
                await llama.models.list()
        (through,) = proxy.requests
    assert through.path == server.base_url + "/models"
    assert server.requests == []


async def test_no_proxy_bypasses_the_proxy(
    server: FakeLlamaAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY naming the API host sends requests directly."""
    async with FakeLlamaAPI() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.origin)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with AsyncLlamaClient(api_key=server.api_key, base_url=server.base_url) as llama:
            assert len(await llama.models.list()) == 4
        assert proxy.requests == []
