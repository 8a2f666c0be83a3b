"""Fixtures for the tests of the fake Llama API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from llama_models.testing import FakeLlamaAPI

# pytest accepts `pytest_plugins` only in the root conftest, so import the fixture instead.
from llama_models.testing.pytest_plugin import fake_llama_api  # noqa: F401


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio, the loop aiohttp needs."""
    return "asyncio"


@pytest.fixture
async def api() -> AsyncIterator[FakeLlamaAPI]:
    """A fake server running on the test's event loop."""
    async with FakeLlamaAPI() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session, closed after the test."""
    async with aiohttp.ClientSession() as client:
        yield client
