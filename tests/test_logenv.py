"""``LLAMA_LOG``: the SDK's log on stderr from the environment, and nothing else touched."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator

import pytest

from llama_models import AsyncLlamaClient, LlamaClient
from llama_models.testing import FakeLlamaAPI, Fault

SECRET = "LLM|7421|a-key-that-must-never-be-logged"
VARIABLES = ("LLAMA_LOG", "LLAMA_API_CLIENT_LOG")
SOON = {"retry-after-ms": "10"}
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.fixture(autouse=True)
def sdk_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """The ``llama_models`` logger without handlers, put back as it was after the test."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    logger = logging.getLogger("llama_models")
    handlers, level = logger.handlers[:], logger.level
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    yield logger
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:] = handlers
    logger.setLevel(level)


def make_client() -> None:
    """Make (and close) a client, which reads the environment."""
    with LlamaClient(api_key=SECRET, base_url="http://127.0.0.1:9/v1"):
        pass


def test_debug_logs_requests_and_retries_to_stderr_without_the_key() -> None:
    """With LLAMA_LOG=debug a program that configures no logging prints each request and retry to stderr, and never the key."""
    script = textwrap.dedent(
        """
        import asyncio
        from llama_models import AsyncLlamaClient, LlamaClient

        HI = [{"role": "user", "content": "Hi"}]
        with LlamaClient(log_bodies=True) as client:
            client.models.list()
            client.chat.completions.create(model="Llama-3.3-70B-Instruct", messages=HI)

        async def main():
            async with AsyncLlamaClient() as client:
                await client.models.retrieve("Llama-3.3-70B-Instruct")

        asyncio.run(main())
        print("done")
        """
    )
    with FakeLlamaAPI(api_key=SECRET) as fake:
        fake.enqueue(Fault.error(503, headers=SOON))
        env = {
            **os.environ,
            "LLAMA_LOG": "debug",
            "LLAMA_API_KEY": SECRET,
            "LLAMA_API_BASE_URL": fake.base_url,
        }
        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert SECRET not in result.stderr
    assert SECRET.split("|")[-1] not in result.stderr
    # Each line: the time, the level, the logger and the message.
    lines = [TIME.sub("", line, count=1) for line in result.stderr.splitlines()]
    assert len(lines) == len(result.stderr.splitlines()) == 9, result.stderr
    models = f"{fake.base_url}/models"
    # One line per record, although three clients were made: one handler, not three.
    expected = [
        f"DEBUG llama_models: GET {models} -> 503 (",
        'DEBUG llama_models: response body: {"title": "Service Unavailable"',
        f"INFO llama_models: retrying GET {models} in 0.01 s (retry 1 of 2) after: HTTP 503",
        f"DEBUG llama_models: GET {models} -> 200 (",
        'DEBUG llama_models: response body: {"object": "list"',
        'DEBUG llama_models: request body: {"model":"Llama-3.3-70B-Instruct"',
        f"DEBUG llama_models: POST {fake.base_url}/chat/completions -> 200 (",
        'DEBUG llama_models: response body: {"id": ',
        f"DEBUG llama_models: GET {models}/Llama-3.3-70B-Instruct -> 200 (",
    ]
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), f"{line!r} does not start with {start!r}"


def test_info_logs_retries_but_not_each_request(
    threaded_server: FakeLlamaAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LLAMA_LOG=info prints the retry line but not the per-request DEBUG lines."""
    monkeypatch.setenv("LLAMA_LOG", "info")
    threaded_server.enqueue(Fault.error(503, headers=SOON))
    with LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as client:
        client.models.list()
    err = capsys.readouterr().err
    assert "INFO llama_models: retrying GET" in err
    assert "-> 200" not in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("variables", "level"),
    [
        ({"LLAMA_LOG": "debug"}, logging.DEBUG),
        ({"LLAMA_LOG": "info"}, logging.INFO),
        ({"LLAMA_LOG": " DEBUG "}, logging.DEBUG),
        ({"LLAMA_API_CLIENT_LOG": "debug"}, logging.DEBUG),
        ({"LLAMA_LOG": "info", "LLAMA_API_CLIENT_LOG": "debug"}, logging.INFO),
        ({"LLAMA_LOG": "", "LLAMA_API_CLIENT_LOG": "debug"}, logging.DEBUG),
    ],
)
def test_the_variable_sets_the_level_and_one_stderr_handler(
    variables: dict[str, str],
    level: int,
    sdk_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``debug`` or ``info``, in any case, in LLAMA_LOG or else LLAMA_API_CLIENT_LOG, sets that level and adds one handler."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    make_client()
    assert sdk_logger.level == level
    [handler] = sdk_logger.handlers
    assert isinstance(handler, logging.StreamHandler)


def test_later_clients_add_no_handler_and_keep_the_level_the_program_set(
    sdk_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first client configures the logger: later ones, of either kind, leave it as the program left it."""
    monkeypatch.setenv("LLAMA_LOG", "debug")
    make_client()
    sdk_logger.setLevel(logging.WARNING)
    make_client()
    AsyncLlamaClient(
        api_key=SECRET, base_url="http://127.0.0.1:9/v1"
    )  # never used: nothing to close
    assert len(sdk_logger.handlers) == 1
    assert sdk_logger.level == logging.WARNING


def test_the_handler_writes_to_the_current_stderr(
    threaded_server: FakeLlamaAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log lines go to whatever ``sys.stderr`` is when they are written, as notebooks and pytest replace it."""
    monkeypatch.setenv("LLAMA_LOG", "debug")
    with LlamaClient(api_key=threaded_server.api_key, base_url=threaded_server.base_url) as client:
        replaced = io.StringIO()
        with contextlib.redirect_stderr(replaced):
            client.models.list()
    assert f"GET {threaded_server.base_url}/models -> 200" in replaced.getvalue()


def test_nothing_but_the_sdk_logger_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """The root logger, other libraries' loggers and the warning filters stay as they were."""
    root, other = logging.getLogger(), logging.getLogger("aiohttp.client")
    before = (root.handlers[:], root.level, other.handlers[:], other.level, warnings.filters[:])
    monkeypatch.setenv("LLAMA_LOG", "debug")
    make_client()
    assert (root.handlers, root.level, other.handlers, other.level, warnings.filters) == before


@pytest.mark.parametrize("value", ["verbose", "2", "warning"])
def test_an_unknown_value_changes_nothing_and_says_so(
    value: str,
    sdk_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown value does not stop the client from being made: it logs one warning naming it, and configures nothing."""
    monkeypatch.setenv("LLAMA_LOG", value)
    make_client()
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.name == "llama_models"
    assert record.getMessage() == (
        f"LLAMA_LOG={value!r} is not one of debug, info or off; logging is left as it was"
    )
    assert sdk_logger.handlers == []
    assert sdk_logger.level == logging.NOTSET


@pytest.mark.parametrize(
    "variables",
    [
        {"LLAMA_LOG": "off"},
        {"LLAMA_LOG": "OFF", "LLAMA_API_CLIENT_LOG": "debug"},
        {"LLAMA_LOG": ""},
        {"LLAMA_LOG": " "},
    ],
)
def test_off_or_empty_changes_nothing_quietly(
    variables: dict[str, str],
    sdk_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``off`` (which also silences LLAMA_API_CLIENT_LOG) and an empty value configure nothing and warn of nothing."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    make_client()
    assert caplog.records == []
    assert sdk_logger.handlers == []
    assert sdk_logger.level == logging.NOTSET
