"""Every Python example in the README and in docs/ runs against the fake server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llama_models.testing import FakeLlamaAPI

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for number, match in enumerate(FENCE.finditer(document.read_text()), start=1):
            found.append((f"{document.relative_to(ROOT)}#{number}", match.group(1)))
    return found


EXAMPLES = _examples()


def test_examples_were_found() -> None:
    """The README has runnable examples (guards against a broken extractor)."""
    assert sum(name.startswith("README.md") for name, _ in EXAMPLES) >= 4


@pytest.mark.parametrize(("name", "code"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_example_runs(name: str, code: str, threaded_server: FakeLlamaAPI) -> None:
    """The example runs to completion, quietly, with the key and URL taken from the environment."""
    env = {
        **os.environ,
        "LLAMA_API_KEY": threaded_server.api_key,
        "LLAMA_API_BASE_URL": threaded_server.base_url,
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
    assert result.stderr == ""
    assert result.stdout
