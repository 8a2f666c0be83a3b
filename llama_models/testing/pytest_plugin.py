"""A pytest plugin providing the ``fake_llama_api`` fixture.

Enable it in your root ``conftest.py``::

    pytest_plugins = ["llama_models.testing.pytest_plugin"]
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._server import FakeLlamaAPI

__all__ = ["fake_llama_api"]


@pytest.fixture
def fake_llama_api() -> Iterator[FakeLlamaAPI]:
    """A started `FakeLlamaAPI` with default settings, fresh for each test.

    The server runs on a background thread with its own event loop, so it serves async
    tests (on any event loop) and tests of blocking clients alike. Point the client at
    ``fake_llama_api.base_url`` with ``fake_llama_api.api_key``; the server stops, and
    releases any stalled request, when the test ends.
    """
    with FakeLlamaAPI() as server:
        yield server
