"""Fixtures for the tests of the fake Llama API server."""

from __future__ import annotations

import pytest

# pytest accepts `pytest_plugins` only in the root conftest, so import the fixture instead.
from llama_models.testing.pytest_plugin import fake_llama_api  # noqa: F401


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio, the loop aiohttp needs."""
    return "asyncio"
