"""The llama-models command, run as a subprocess like a user would (in process to spy on a call)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import COMMAND, api_env, run

from llama_models import __version__
from llama_models._cli import main
from llama_models._resources.chat import AsyncCompletions
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

DOC_IDS = [
    "Llama-3.3-70B-Instruct",
    "Llama-3.3-8B-Instruct",
    "Llama-4-Scout-17B-16E-Instruct-FP8",
    "Llama-4-Maverick-17B-128E-Instruct-FP8",
]


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


def test_demo_uploads_a_file_and_prints_its_id(tmp_path: Path) -> None:
    """upload PATH --purpose P prints the file id alone, and nothing on a non-terminal stderr."""
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n')
    result = run("--demo", "upload", str(path), "--purpose", "messages_finetune")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"file_[0-9a-f]+\n", result.stdout)
    assert result.stderr == ""


def test_upload_sends_parts_and_prints_json(threaded_server: FakeLlamaAPI, tmp_path: Path) -> None:
    """--part-size splits the file; --json describes the uploaded file."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"0123456789")
    result = run(
        "upload",
        str(path),
        "--purpose",
        "attachment",
        "--part-size",
        "4",
        "--json",
        env={
            "LLAMA_API_KEY": threaded_server.api_key,
            "LLAMA_API_BASE_URL": threaded_server.base_url,
        },
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described == {
        "file_id": described["file_id"],
        "filename": "notes.txt",
        "bytes": 10,
        "mime_type": "text/plain",
        "purpose": "attachment",
    }
    assert threaded_server.files[described["file_id"]].data == b"0123456789"
    assert [r.headers.get("X-Upload-Offset") for r in threaded_server.requests] == [
        None,
        "0",
        "4",
        "8",
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [("missing.jsonl", "no such file"), ("empty.jsonl", "is empty"), (".", "not a regular file")],
)
def test_upload_mistakes_are_one_line(tmp_path: Path, name: str, text: str) -> None:
    """A file that cannot be uploaded is reported on one line, exit 1."""
    (tmp_path / "empty.jsonl").write_bytes(b"")
    result = run(
        "--demo",
        "upload",
        str(tmp_path / name),
        "--purpose",
        "metadata",
        "--mime-type",
        "text/plain",
    )
    assert_one_line_error(result, text)


@pytest.mark.parametrize(
    "args",
    [
        ["upload", "f.jsonl"],
        ["upload", "f.jsonl", "--purpose", "training"],
        ["upload", "f.jsonl", "--purpose", "metadata", "--mime-type", "image/bmp"],
        ["upload", "f.jsonl", "--purpose", "metadata", "--part-size", "big"],
    ],
    ids=["no-purpose", "bad-purpose", "bad-type", "bad-size"],
)
def test_upload_usage_mistakes_exit_2(args: list[str]) -> None:
    """A missing or unknown purpose, an unknown type or a non-number size is a usage error."""
    result = run("--demo", *args)
    assert result.returncode == 2
    assert "usage: llama-models upload" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")
def test_upload_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a terminal, a bar is redrawn per part and ends on its own line."""
    import pty

    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 10)
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [COMMAND, "--demo", "upload", str(path), "--purpose", "attachment", "--part-size", "5"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once everything written has been read
            while chunk := os.read(controller, 4096):
                shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    assert re.fullmatch(r"file_[0-9a-f]+\n", result.stdout)
    bars = shown.decode().replace("\r\n", "\n").split("\r")[1:]
    assert [bar.split("]")[1].split()[0] for bar in bars] == ["0%", "50%", "100%"]
    assert bars[-1].endswith("MiB\n")


# -- chat ------------------------------------------------------------------------------

DEFAULT_CHAT_MODEL = "Llama-4-Maverick-17B-128E-Instruct-FP8"


def test_demo_chat_prints_the_reply() -> None:
    """chat PROMPT prints the reply's text and a newline, and nothing else."""
    result = run("--demo", "chat", "Hello there")
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: Hello there\n", "")


def test_chat_sends_the_system_message_first(threaded_server: FakeLlamaAPI) -> None:
    """--system goes before the prompt; --model, --max-tokens and --temperature are sent."""
    result = run(
        "chat",
        "What is 2 + 2?",
        "--system",
        "Answer in one word.",
        "--model",
        "Llama-3.3-8B-Instruct",
        "--max-tokens",
        "50",
        "--temperature",
        "0.5",
        env=api_env(threaded_server),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: What is 2 + 2?\n"
    (request,) = threaded_server.requests
    assert request.json() == {
        "model": "Llama-3.3-8B-Instruct",
        "messages": [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "What is 2 + 2?"},
        ],
        "max_completion_tokens": 50,
        "temperature": 0.5,
    }


def test_chat_uses_the_default_model(threaded_server: FakeLlamaAPI) -> None:
    """Without --model the chat goes to Llama 4 Maverick, as --help says."""
    result = run("chat", "hi", env=api_env(threaded_server))
    assert result.returncode == 0, result.stderr
    assert threaded_server.requests[0].json() == {
        "model": DEFAULT_CHAT_MODEL,
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert f"default: {DEFAULT_CHAT_MODEL}" in run("chat", "--help").stdout


def test_chat_stream_prints_the_deltas_then_a_newline(threaded_server: FakeLlamaAPI) -> None:
    """--stream asks for a stream and prints the same text as the plain command."""
    threaded_server.enqueue_replies(ChatReply.text("Hello there", chunks=["Hel", "lo ", "there"]))
    result = run("chat", "hi", "--stream", env=api_env(threaded_server))
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello there\n", "")
    assert threaded_server.requests[0].json()["stream"] is True


def test_chat_json_prints_the_whole_completion() -> None:
    """--json prints the ChatCompletion as the API's JSON."""
    result = run("--demo", "chat", "hi", "--json")
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["completion_message"]["content"] == {"type": "text", "text": "You said: hi"}
    assert completion["completion_message"]["stop_reason"] == "stop"
    assert {metric["metric"] for metric in completion["metrics"]} == {
        "num_prompt_tokens",
        "num_completion_tokens",
        "num_total_tokens",
    }


def test_chat_stream_json_prints_only_the_final_completion() -> None:
    """--stream --json prints the accumulated completion alone, equal to the plain one's."""
    plain = json.loads(run("--demo", "chat", "hi", "--json").stdout)
    result = run("--demo", "chat", "hi", "--stream", "--json")
    assert result.returncode == 0, result.stderr
    streamed = json.loads(result.stdout)  # no text before the JSON
    # --json prints the server's answer as sent; the streamed one is built from the events,
    # which carry no empty tool_calls list.
    assert plain["completion_message"].pop("tool_calls") == []
    assert {**streamed, "id": None} == {**plain, "id": None}


def test_chat_reads_a_dash_prompt_from_stdin(threaded_server: FakeLlamaAPI) -> None:
    """PROMPT - reads the prompt from stdin, without its trailing newline."""
    result = run("chat", "-", env=api_env(threaded_server), stdin="line one\nline two\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: line one\nline two\n"
    assert threaded_server.requests[0].json()["messages"] == [
        {"role": "user", "content": "line one\nline two"}
    ]


def test_chat_mid_stream_error_ends_the_line_then_one_error_line(
    threaded_server: FakeLlamaAPI,
) -> None:
    """The text that arrived stays on stdout, ended by a newline; stderr has one line; exit 1."""
    threaded_server.enqueue_replies(ChatReply.text("Hello there", chunks=["Hel", "lo ", "there"]))
    threaded_server.enqueue(Fault.stream_error(after=3))  # start, "Hel", "lo ", then the error
    result = run("chat", "hi", "--stream", env=api_env(threaded_server))
    assert result.returncode == 1
    assert result.stdout == "Hello \n"
    assert result.stderr.splitlines() == [
        "llama-models: error: the server reported an error mid-stream: Generation failed"
    ]


def test_chat_stream_idle_timeout_inf_lifts_the_limit(
    threaded_server: FakeLlamaAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--idle-timeout inf reaches the call as math.inf (no limit), not None (the 60 s default)."""
    sent: list[object] = []
    create = AsyncCompletions.create

    async def spy(self: AsyncCompletions, **params: Any) -> Any:
        sent.append(params.get("idle_timeout"))
        return await create(self, **params)

    monkeypatch.setattr(AsyncCompletions, "create", spy)
    for name, value in api_env(threaded_server).items():
        monkeypatch.setenv(name, value)
    assert main(["chat", "hi", "--stream", "--idle-timeout", "inf"]) == 0
    assert capsys.readouterr().out == "You said: hi\n"
    assert sent == [math.inf]


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGINT to send")
def test_chat_stream_ctrl_c_exits_130_without_a_traceback(threaded_server: FakeLlamaAPI) -> None:
    """Each delta is flushed as it arrives; Ctrl-C then ends the stream and its line, status 130."""
    import signal

    threaded_server.enqueue_replies(ChatReply.text("Hello there", chunks=["Hel", "lo ", "there"]))
    threaded_server.enqueue(Fault.stream_stall(after=2))  # start, "Hel", then silence
    with subprocess.Popen(
        [COMMAND, "chat", "hi", "--stream"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **api_env(threaded_server)},
    ) as process:
        assert process.stdout is not None
        first = os.read(process.stdout.fileno(), 100)  # arrives while the stream is stalled
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    assert process.returncode == 130
    assert (first + rest).decode() == "Hel\n"
    assert errors == b""


# -- moderate --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("What is your password?", "flagged: privacy (Llama-Guard)"),
        ("I will hurt myself for your password", "flagged: privacy, self-harm (Llama-Guard)"),
        ("What a lovely day.", "not flagged (Llama-Guard)"),
    ],
)
def test_demo_moderate_prints_one_line_and_exits_0(text: str, line: str) -> None:
    """moderate TEXT prints the verdict and the model on one line; flagged or not, status 0."""
    result = run("--demo", "moderate", text)
    assert (result.returncode, result.stdout, result.stderr) == (0, line + "\n", "")


def test_moderate_json_and_model(threaded_server: FakeLlamaAPI) -> None:
    """--json prints the API's JSON; --model is sent; the text goes as one user message."""
    result = run(
        "moderate",
        "my credit card",
        "--json",
        "--model",
        "Llama-Guard-4-12B",
        env=api_env(threaded_server),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "model": "Llama-Guard-4-12B",
        "results": [{"flagged": True, "flagged_categories": ["privacy"]}],
    }
    assert threaded_server.requests[0].json() == {
        "model": "Llama-Guard-4-12B",
        "messages": [{"role": "user", "content": "my credit card"}],
    }


def test_moderate_reads_a_dash_text_from_stdin(threaded_server: FakeLlamaAPI) -> None:
    """TEXT - reads the text from stdin; without --model none is sent (the API's default)."""
    result = run("moderate", "-", env=api_env(threaded_server), stdin="Hello.\n")
    assert (result.returncode, result.stdout) == (0, "not flagged (Llama-Guard)\n")
    assert threaded_server.requests[0].json() == {
        "messages": [{"role": "user", "content": "Hello."}]
    }


def test_demo_moderate_json_with_an_unknown_model_is_one_line() -> None:
    """--demo answers moderations like the API: an unknown safety model is a 404."""
    result = run("moderate", "hi", "--demo", "--json", "--model", "Llama-3.3-8B-Instruct")
    assert_one_line_error(result, "404: Model Llama-3.3-8B-Instruct not found")
    flagged = json.loads(run("moderate", "password", "--demo", "--json").stdout)
    assert flagged["results"][0]["flagged"] is True
