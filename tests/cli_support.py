"""Running the installed ``llama-models`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from llama_models.testing import FakeLlamaAPI

COMMAND = str(Path(sys.executable).with_name("llama-models"))


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the command with *args*, *stdin* as its input, *env* added to the environment."""
    return subprocess.run(
        [COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def api_env(server: FakeLlamaAPI) -> dict[str, str]:
    """The environment that points the command at *server*."""
    return {"LLAMA_API_KEY": server.api_key, "LLAMA_API_BASE_URL": server.base_url}
