"""``python -m llama_models.testing`` prints the line that points another shell at it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from llama_models.testing import FakeLlamaAPI
from llama_models.testing.__main__ import client_base_url, environment_line

# What a user runs in the second shell: a blocking client with no arguments at all.
SCRIPT = """
from llama_models import LlamaClient

with LlamaClient() as client:
    print(client.models.list()[0].id)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="pastes into a POSIX shell")
def test_pasted_line_points_the_sdk_and_the_command_at_the_server() -> None:
    """After the URL come the export line and how to stop; pasted, it serves SDK and command."""
    command = [sys.executable, "-m", "llama_models.testing", "--api-key", "it's"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            first = process.stdout.readline()
            match = re.fullmatch(r"serving on (http://127\.0\.0\.1:\d+/v1)\n", first)
            assert match is not None, first
            url = match.group(1)
            export = f"export LLAMA_API_KEY='it'\"'\"'s' LLAMA_API_BASE_URL={url}"
            path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
            shell = shutil.which("sh") or "/bin/sh"
            for then in (f"python -W error -c {shlex.quote(SCRIPT)}", "llama-models models list"):
                result = subprocess.run(
                    [shell, "-c", f"{export}\n{then}"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                    env={**os.environ, "PATH": path},
                )
                assert result.returncode == 0, result.stderr
                assert "Llama-3.3-70B-Instruct" in result.stdout
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
            rest, errors = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert (process.returncode, errors) == (0, "")
    assert rest.splitlines() == [
        "To point the SDK and the llama-models command at it, paste into another shell:",
        f"  {export}",
        "Ctrl-C stops the server.",
    ]


@pytest.mark.parametrize(
    "key", ["test-key", "it's", "a b", "$HOME", "x;y", '"q"', "`id`", "ümlaut"]
)
def test_export_line_survives_any_key(key: str) -> None:
    """The POSIX line quotes each value so that the shell gives it back unchanged."""
    url = "http://127.0.0.1:8080/v1"
    words = shlex.split(environment_line(key, url))
    assert words == ["export", f"LLAMA_API_KEY={key}", f"LLAMA_API_BASE_URL={url}"]


def test_powershell_line_doubles_single_quotes() -> None:
    """On Windows the line is PowerShell, each value in single quotes with ' doubled."""
    line = environment_line("it's", "http://127.0.0.1:8080/v1", windows=True)
    assert line == (
        "$env:LLAMA_API_KEY = 'it''s'; $env:LLAMA_API_BASE_URL = 'http://127.0.0.1:8080/v1'"
    )


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/v1"),
        ("localhost", "http://localhost:8080/v1"),
        ("0.0.0.0", "http://127.0.0.1:8080/v1"),  # noqa: S104
        ("::", "http://[::1]:8080/v1"),
        ("::1", "http://[::1]:8080/v1"),
    ],
)
def test_a_wildcard_host_is_pasted_as_loopback(host: str, url: str) -> None:
    """A server on every interface is reached through loopback, which the SDK allows over http."""
    assert client_base_url(FakeLlamaAPI(host=host, port=8080), host) == url
