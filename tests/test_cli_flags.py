"""The command reports every mistake in its own terms: flags and environment variables.

Each command runs as a subprocess, as a user would run it, against the fake server over
loopback; a mistake in a flag must fail before any request reaches the server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import api_env, run

from llama_models._cli import _parser
from llama_models._cli._settings import FLAGS
from llama_models._config import DEFAULT_MAX_RESPONSE_BYTES
from llama_models.testing import FakeLlamaAPI, Fault

# How the library names these settings for Python callers; none may reach a CLI user.
PYTHON_SPELLINGS = (
    "api_key",
    "base_url",
    "allow_insecure_http",
    "max_completion_tokens",
    "mime_type",
    "part_size",
    "idle_timeout",
    "stream_timeout",
    "read_timeout",
    "connect_timeout",
    "max_response_bytes",
    "=True",
    "=...",
)


def assert_flag_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    """One line on stderr, exit status 1, containing *text* and no Python spelling."""
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("llama-models: error: ")
    assert text in line
    assert not [name for name in PYTHON_SPELLINGS if name in line], line


def assert_usage_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit status 2 with argparse's usage line and *text* on stderr, nothing on stdout."""
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert "usage: llama-models" in result.stderr
    assert text in result.stderr


def assert_error(result: subprocess.CompletedProcess[str], status: int, text: str) -> None:
    """A usage error (status 2) or a flag error (status 1) saying *text*."""
    if status == 2:
        assert_usage_error(result, text)
    else:
        assert_flag_error(result, text)


# -- the key and the URL ---------------------------------------------------------------------


def test_missing_key_names_the_flag_and_the_variable() -> None:
    """Without a key the command says to pass --api-key or set LLAMA_API_KEY, not api_key=...."""
    assert_flag_error(
        run("models", "list"),
        "no API key: pass --api-key KEY or set the LLAMA_API_KEY environment variable",
    )


@pytest.mark.parametrize(
    ("args", "env", "text"),
    [
        (["--api-key", ""], {}, "--api-key is empty"),
        (["--api-key", "my key"], {}, "--api-key must be printable ASCII without whitespace"),
        ([], {"LLAMA_API_KEY": "key\n"}, "LLAMA_API_KEY must be printable ASCII without"),
    ],
    ids=["empty-flag", "space-in-flag", "newline-in-variable"],
)
def test_bad_key_is_named_as_it_was_given(args: list[str], env: dict[str, str], text: str) -> None:
    """A malformed key is reported as --api-key or as LLAMA_API_KEY, wherever it came from."""
    assert_flag_error(run("models", "list", *args, env=env), text)


@pytest.mark.parametrize(
    ("args", "env", "text"),
    [
        (
            ["--base-url", "ftp://llama.example/v1"],
            {},
            "--base-url must be an absolute http(s) URL",
        ),
        (
            ["--base-url", "https://me:secret@llama.example/v1"],
            {},
            "--base-url must not contain credentials; pass the key as --api-key instead",
        ),
        (
            ["--base-url", "https://llama.example/v1?x=1"],
            {},
            "--base-url must not have a query string or fragment",
        ),
        (
            ["--base-url", "https://llama.example:99999/v1"],
            {},
            "--base-url is not a valid URL",
        ),
        (
            ["--base-url", "http://llama.example/v1"],
            {},
            "--base-url uses plain http to a non-loopback host, which would send the API key "
            "unencrypted; use https, or pass --allow-insecure-http if you really mean it",
        ),
        (
            [],
            {"LLAMA_API_BASE_URL": "http://llama.example/v1"},
            "LLAMA_API_BASE_URL uses plain http to a non-loopback host",
        ),
        (
            [],
            {"LLAMA_API_CLIENT_BASE_URL": "llama.example/v1"},
            "LLAMA_API_CLIENT_BASE_URL must be an absolute http(s) URL",
        ),
    ],
    ids=["scheme", "credentials", "query", "port", "plain-http", "variable", "second-variable"],
)
def test_bad_base_url_is_named_as_it_was_given(
    args: list[str], env: dict[str, str], text: str
) -> None:
    """A bad URL is reported as --base-url or as the variable it came from; hints name flags."""
    assert_flag_error(run("models", "list", "--api-key", "k", *args, env=env), text)


@pytest.mark.skipif(sys.platform == "win32", reason="0.0.0.0 reaches this host on Unix only")
@pytest.mark.parametrize("position", ["before", "after"])
def test_allow_insecure_http_permits_plain_http_to_another_address(
    threaded_server: FakeLlamaAPI, position: str
) -> None:
    """--allow-insecure-http, before or after the command, lets a non-loopback http URL through."""
    # 0.0.0.0 is not a loopback address, yet on Unix connecting to it reaches this host.
    url = threaded_server.base_url.replace("127.0.0.1", "0.0.0.0")  # noqa: S104
    refused = run("models", "list", "--api-key", "test-key", "--base-url", url)
    assert_flag_error(refused, "pass --allow-insecure-http")
    assert threaded_server.requests == []
    command = ["models", "list", "--api-key", "test-key", "--base-url", url]
    flag = ["--allow-insecure-http"]
    result = run(*(flag + command if position == "before" else command + flag))
    assert result.returncode == 0, result.stderr
    assert "Llama-3.3-70B-Instruct" in result.stdout
    assert len(threaded_server.requests) == 1


@pytest.mark.parametrize("value", ["-1", "0", "inf", "nan"])
def test_bad_timeout_names_the_flag(threaded_server: FakeLlamaAPI, value: str) -> None:
    """A --timeout that is not a positive, finite number of seconds is refused as --timeout."""
    result = run("models", "list", "--timeout", value, env=api_env(threaded_server))
    assert_flag_error(result, "--timeout must be positive and finite")
    assert threaded_server.requests == []


def test_non_number_timeout_is_a_usage_error() -> None:
    """A --timeout that is not a number is argparse's usage error, exit status 2."""
    assert_usage_error(
        run("--demo", "--timeout", "soon", "models", "list"),
        "argument --timeout: invalid float value: 'soon'",
    )


# -- command flags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "text"),
    [
        (["chat", "hi", "--temperature", "warm"], 2, "argument --temperature: invalid float"),
        (["chat", "hi", "--temperature", "5"], 1, "--temperature must be between 0 and 1, got 5.0"),
        (["chat", "hi", "--temperature", "nan"], 1, "--temperature must be a number, not nan"),
        (["chat", "hi", "--max-tokens", "many"], 2, "argument --max-tokens: invalid int value"),
        (["chat", "hi", "--max-tokens", "0"], 1, "--max-tokens must be >= 1, got 0"),
        (["chat", "hi", "--model", ""], 1, "--model must be a non-empty model id"),
        (["chat", "hi", "--stream", "--model", " "], 1, "--model must be a non-empty model id"),
        (["moderate", "hi", "--model", ""], 1, "--model must be a non-empty model id"),
        (["models", "get", ""], 1, "ID must be a non-empty id, not ''"),
        (["models", "get", ".."], 1, "ID must be a non-empty id, not '..'"),
        (
            ["chat", "hi", "--stream", "--idle-timeout", "0"],
            1,
            "--idle-timeout must be a positive number of seconds, or inf for no limit, not 0.0",
        ),
        (
            ["chat", "hi", "--stream", "--idle-timeout", "soon"],
            2,
            "argument --idle-timeout: invalid float value: 'soon'",
        ),
        (
            ["chat", "hi", "--idle-timeout", "0"],
            2,
            "llama-models chat: error: argument --idle-timeout: applies to streams only; "
            "pass --stream or drop it",
        ),
    ],
    ids=[
        "temperature-word",
        "temperature-range",
        "temperature-nan",
        "max-tokens-word",
        "max-tokens-range",
        "chat-model",
        "stream-model",
        "moderate-model",
        "empty-id",
        "dot-id",
        "idle-timeout-range",
        "idle-timeout-word",
        "idle-timeout-without-stream",
    ],
)
def test_bad_command_flag_is_named_and_nothing_is_sent(
    threaded_server: FakeLlamaAPI, args: list[str], status: int, text: str
) -> None:
    """A flag value the API would refuse fails first, named as the flag; no request is made."""
    assert_error(run(*args, env=api_env(threaded_server)), status, text)
    assert threaded_server.requests == []


def test_flag_mistakes_come_before_a_missing_key() -> None:
    """A bad flag value is reported even when no key is set, so it is fixed first."""
    assert_flag_error(run("chat", "hi", "--max-tokens", "0"), "--max-tokens must be >= 1")


@pytest.mark.parametrize(
    ("name", "extra", "status", "text"),
    [
        (
            "data.bin",
            [],
            1,
            "cannot guess the MIME type of 'data.bin' from its extension; pass --mime-type TYPE",
        ),
        ("train.jsonl", ["--part-size", "0"], 1, "--part-size must be an int >= 1, not 0"),
        ("train.jsonl", ["--part-size", "big"], 2, "argument --part-size: invalid int value"),
        ("train.jsonl", ["--mime-type", "image/bmp"], 2, "argument --mime-type: invalid choice"),
        ("train.jsonl", ["--purpose", "training"], 2, "argument --purpose: invalid choice"),
    ],
    ids=["unguessable-type", "part-size-range", "part-size-word", "bad-type", "bad-purpose"],
)
def test_bad_upload_flag_is_named_and_nothing_is_sent(
    threaded_server: FakeLlamaAPI,
    tmp_path: Path,
    name: str,
    extra: list[str],
    status: int,
    text: str,
) -> None:
    """An upload flag mistake names the flag to pass or fix, and nothing is uploaded."""
    path = tmp_path / name
    path.write_bytes(b"{}\n")
    args = ["upload", str(path), "--purpose", "attachment", *extra]
    assert_error(run(*args, env=api_env(threaded_server)), status, text)
    assert threaded_server.requests == []


def test_every_checked_flag_is_in_the_table() -> None:
    """Each flag whose value the library checks is in FLAGS, so its messages name the flag."""
    # Flags that take no value, or free text, or that argparse checks against its choices.
    unchecked = {"-h", "--help", "--version", "--json", "--demo", "--stream", "--system"}
    unchecked |= {"--purpose", "-o", "--output", "--ordered"}
    parsers = [_parser()]
    options: set[str] = set()
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            options.update(action.option_strings)
            choices = action.choices if isinstance(action.choices, dict) else {}
            parsers.extend(choices.values())
    assert options - unchecked == set(FLAGS.values())


# -- errors during a call ------------------------------------------------------------------


def test_stalled_stream_names_the_idle_timeout_flag(threaded_server: FakeLlamaAPI) -> None:
    """A stream silent for --idle-timeout seconds fails with a message naming that flag."""
    threaded_server.enqueue(Fault.stream_stall(after=1))  # the start event, then silence
    result = run("chat", "hi", "--stream", "--idle-timeout", "0.5", env=api_env(threaded_server))
    assert_flag_error(result, ": no event for 0.5 s (--idle-timeout), after 1 event")


@pytest.mark.parametrize(
    ("args", "content_type", "text"),
    [
        (
            ["models", "list"],
            "application/json",
            "/v1/models is larger than the command's size limit",
        ),
        (
            ["chat", "hi", "--stream"],
            "text/event-stream",
            "an event of the stream is longer than the command's size limit",
        ),
    ],
    ids=["response", "stream-event"],
)
def test_oversized_answer_names_no_setting(
    threaded_server: FakeLlamaAPI, args: list[str], content_type: str, text: str
) -> None:
    """An answer over the size limit, which no flag changes, is reported without naming one."""
    body = b"data: " + b"x" * DEFAULT_MAX_RESPONSE_BYTES  # over the limit, in one line
    threaded_server.enqueue(Fault.respond(200, body=body, content_type=content_type))
    result = run(*args, env=api_env(threaded_server))
    assert_flag_error(result, f"{text} ({DEFAULT_MAX_RESPONSE_BYTES} bytes)")


def test_the_servers_words_are_kept_as_they_are() -> None:
    """Only the library's own wording is changed, not what the server said about a model id."""
    result = run("--demo", "models", "get", "(idle_timeout)")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "llama-models: error: 404: Model (idle_timeout) not found\n"


# -- --demo ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--demo", "--api-key", "k", "models", "list"], "not allowed with --api-key ("),
        (["models", "list", "--base-url", "https://h/v1", "--demo"], "not allowed with --base-url"),
        (["--api-key", "", "chat", "hi", "--demo"], "not allowed with --api-key ("),
        (
            ["--base-url", "https://h/v1", "moderate", "hi", "--demo", "--api-key", "k"],
            "not allowed with --api-key or --base-url",
        ),
    ],
    ids=["key-first", "url-after", "empty-key", "both"],
)
def test_demo_with_a_key_or_url_is_a_usage_error(args: list[str], text: str) -> None:
    """--demo brings its own key and URL, so --api-key or --base-url with it is exit status 2."""
    result = run(*args)
    assert_usage_error(result, "llama-models: error: argument --demo: " + text)


def test_demo_ignores_the_key_and_url_in_the_environment() -> None:
    """Variables are not flags: --demo still runs with LLAMA_API_KEY and a base URL set."""
    env = {"LLAMA_API_KEY": "real-key", "LLAMA_API_BASE_URL": "https://llama.example/v1"}
    result = run("--demo", "chat", "hi", env=env)
    assert (result.returncode, result.stdout) == (0, "You said: hi\n"), result.stderr
