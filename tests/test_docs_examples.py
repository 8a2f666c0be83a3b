"""Every example in the README and in docs/ runs against the fake server.

Which blocks are examples, and of which kind, is in ``doc_examples``. A ``python`` script
runs with ``python -W error``, a pytest module under pytest, and a notebook cell inside a
running event loop, as Jupyter does. In a ``console`` transcript each ``$ llama-models ...``
command runs through the shell and must print exactly the lines shown under it; a line
``...`` stands for any number of lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from doc_examples import examples, is_cell, is_test_module

from llama_models.testing import FakeLlamaAPI

# Runs a notebook cell: top-level await inside a running loop, as IPython does.
CELL_RUNNER = """
import ast, asyncio, sys
source = sys.argv[1]
code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
async def main():
    result = eval(code, {"__name__": "__main__"})
    if result is not None:
        await result
asyncio.run(main())
"""


PYTHON = examples("python")
CONSOLE = examples("console")


def _environment(server: FakeLlamaAPI, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        **(extra or {}),
        "LLAMA_API_KEY": server.api_key,
        "LLAMA_API_BASE_URL": server.base_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "100",
    }


def _run(
    command: list[str], server: FakeLlamaAPI, folder: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `command` in `folder` with the fake's key and URL in the environment."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_environment(server, extra),
        cwd=folder,
    )


def test_examples_were_found() -> None:
    """The README and the guides have runnable examples (guards against a broken extractor)."""
    assert sum(name.startswith("README.md") for name, _ in PYTHON) >= 4
    assert sum(name.startswith("docs/guides/") for name, _ in PYTHON) >= 20
    assert CONSOLE


@pytest.mark.parametrize(("name", "code"), PYTHON, ids=[name for name, _ in PYTHON])
def test_python_example_runs(
    name: str,
    code: str,
    threaded_server: FakeLlamaAPI,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """The example runs to completion, quietly, with the key and URL taken from the environment.

    An example of the Redis store finds a redis-server's URL in ``REDIS_URL``.
    """
    extra = {"REDIS_URL": request.getfixturevalue("redis_url")} if "REDIS_URL" in code else None
    if is_test_module(code):
        module = tmp_path / "test_example.py"
        module.write_text(code)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
        command.append(str(module))
    elif is_cell(code):
        command = [sys.executable, "-W", "error", "-c", CELL_RUNNER, code]
    else:
        command = [sys.executable, "-W", "error", "-c", code]
    result = _run(command, threaded_server, tmp_path, extra)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stderr == ""
    assert result.stdout


def _commands(transcript: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in transcript.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    return commands


def _matches(shown: list[str], printed: list[str]) -> bool:
    if not shown:
        return not printed
    if shown[0] == "...":
        return any(_matches(shown[1:], printed[i:]) for i in range(len(printed) + 1))
    return bool(printed) and shown[0] == printed[0] and _matches(shown[1:], printed[1:])


@pytest.mark.parametrize(("name", "transcript"), CONSOLE, ids=[name for name, _ in CONSOLE])
def test_console_example_prints_what_it_shows(
    name: str, transcript: str, threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Each command of the transcript exits 0 and prints exactly the lines shown under it."""
    commands = _commands(transcript)
    assert commands, f"{name} has no '$ ' command"
    shell = shutil.which("bash") or "/bin/sh"
    for command, shown in commands:
        assert command.startswith(("llama-models ", "echo ")), f"{name}: will not run {command!r}"
        result = _run([shell, "-c", command], threaded_server, tmp_path)
        assert result.returncode == 0, f"{name}: {command!r} failed:\n{result.stderr}"
        printed = [line.rstrip() for line in result.stdout.splitlines()]
        expected = [line.rstrip() for line in shown if line.strip()]
        assert _matches(expected, [line for line in printed if line]), (
            f"{name}: {command!r} printed:\n{result.stdout}"
        )
