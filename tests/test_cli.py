"""The llama-models command, run as a subprocess like a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from llama_models import __version__
from llama_models.testing import FakeLlamaAPI

COMMAND = str(Path(sys.executable).with_name("llama-models"))
DOC_IDS = [
    "Llama-3.3-70B-Instruct",
    "Llama-3.3-8B-Instruct",
    "Llama-4-Scout-17B-16E-Instruct-FP8",
    "Llama-4-Maverick-17B-128E-Instruct-FP8",
]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("llama-models: error: ")
    assert text in lines[0]


def test_demo_lists_models_as_a_table() -> None:
    """--demo answers from the built-in fake: a table with a header and the four models."""
    result = run("--demo", "models", "list")
    assert result.returncode == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "CREATED", "OWNER"]
    assert set(rule) <= {"-", " "}
    assert [row.split()[0] for row in rows] == DOC_IDS
    assert rows[0].split()[1:] == ["2025-01-01", "Meta"]
    assert result.stderr == ""


def test_demo_lists_models_as_json_with_options_after_the_command() -> None:
    """--json prints the API's own JSON; options may follow the subcommand."""
    result = run("models", "list", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["object"] == "list"
    assert [model["id"] for model in data["data"]] == DOC_IDS
    assert data["data"][0] == {
        "id": DOC_IDS[0],
        "created": 1735718400,
        "object": "model",
        "owned_by": "Meta",
    }


def test_demo_gets_one_model() -> None:
    """models get ID shows one model as key/value lines, or as JSON."""
    result = run("--demo", "models", "get", "Llama-3.3-8B-Instruct")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines == {
        "id": "Llama-3.3-8B-Instruct",
        "created": "2025-01-01 08:00:00 UTC",
        "owned_by": "Meta",
    }
    as_json = run("--demo", "--json", "models", "get", "Llama-3.3-8B-Instruct")
    assert json.loads(as_json.stdout)["id"] == "Llama-3.3-8B-Instruct"


def test_unknown_model_is_one_line_and_exit_1() -> None:
    """An API error prints one line on stderr, with no traceback, and exits 1."""
    assert_one_line_error(run("--demo", "models", "get", "nope"), "404: Model nope not found")


def test_missing_key_says_how_to_provide_one() -> None:
    """Without a key the command says to set LLAMA_API_KEY."""
    assert_one_line_error(run("models", "list"), "LLAMA_API_KEY")


def test_key_and_url_from_flags(threaded_server: FakeLlamaAPI) -> None:
    """--api-key and --base-url point the command at any server."""
    result = run(
        "models",
        "list",
        "--api-key",
        threaded_server.api_key,
        "--base-url",
        threaded_server.base_url,
    )
    assert result.returncode == 0, result.stderr
    assert DOC_IDS[0] in result.stdout
    assert threaded_server.requests[0].headers["Authorization"] == "Bearer test-key"


def test_key_and_url_from_the_environment(threaded_server: FakeLlamaAPI) -> None:
    """LLAMA_API_KEY and LLAMA_API_BASE_URL are read like the library reads them."""
    env = {"LLAMA_API_KEY": threaded_server.api_key, "LLAMA_API_BASE_URL": threaded_server.base_url}
    result = run("--json", "models", "get", DOC_IDS[3], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == DOC_IDS[3]


def test_wrong_key_is_one_line(threaded_server: FakeLlamaAPI) -> None:
    """A 401 prints the server's message on one line, without the key."""
    result = run("models", "list", "--api-key", "bad-key", "--base-url", threaded_server.base_url)
    assert_one_line_error(result, "401: Invalid API key")
    assert "bad-key" not in result.stderr


def test_unreachable_server_is_one_line() -> None:
    """A refused connection prints one line and exits 1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(
        "models",
        "list",
        "--api-key",
        "k",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--timeout",
        "3",
    )
    assert_one_line_error(result, "cannot connect")


def test_bad_timeout_is_one_line() -> None:
    """A bad --timeout is reported like any other argument mistake."""
    assert_one_line_error(run("--demo", "--timeout", "-1", "models", "list"), "timeout")


def test_version() -> None:
    """--version prints the package version."""
    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"llama-models {__version__}")


@pytest.mark.parametrize("args", [[], ["models"], ["models", "get"], ["frobnicate"]])
def test_usage_mistakes_exit_2(args: list[str]) -> None:
    """A missing or unknown command is a usage error (exit 2)."""
    result = run(*args)
    assert result.returncode == 2
    assert "usage: llama-models" in result.stderr


def test_python_dash_m_runs_the_same_command() -> None:
    """python -m llama_models is the same command."""
    result = subprocess.run(
        [sys.executable, "-m", "llama_models", "--demo", "models", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert DOC_IDS[2] in result.stdout
