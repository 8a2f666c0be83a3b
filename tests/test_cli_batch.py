"""``llama-models batch``, run as a subprocess: results file, bad lines, resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from batch_support import chat_item
from cli_support import COMMAND, api_env, run
from script_support import HANG

from llama_models.testing import FakeLlamaAPI, Fault

CHAT = "/v1/chat/completions"


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    return path


def _results(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _batch(
    server: FakeLlamaAPI, source: Path, output: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    return run("batch", str(source), "-o", str(output), *flags, env=api_env(server))


def test_every_request_gets_one_result_line(threaded_server: FakeLlamaAPI, tmp_path: Path) -> None:
    """Each input line becomes one output line with its custom_id and the API's JSON; exit 0."""
    source = _write(tmp_path / "in.jsonl", [chat_item(f"q{n}", f"id-{n}") for n in range(25)])
    output = tmp_path / "out.jsonl"
    result = _batch(threaded_server, source, output, "--concurrency", "4")
    assert result.returncode == 0, result.stderr
    lines = _results(output)
    assert sorted(line["custom_id"] for line in lines) == sorted(f"id-{n}" for n in range(25))
    for line in lines:
        number = line["custom_id"].removeprefix("id-")
        assert line["response"]["completion_message"]["content"]["text"] == f"You said: q{number}"
    assert result.stdout == ""
    assert "25 succeeded, 0 failed" in result.stderr


def test_json_prints_the_summary_on_stdout(threaded_server: FakeLlamaAPI, tmp_path: Path) -> None:
    """With --json the run ends with one summary object on stdout; the results stay in OUTPUT."""
    lines: list[Any] = [chat_item(f"q{n}", f"id-{n}") for n in range(6)]
    source = _write(tmp_path / "in.jsonl", [*lines, "not json", lines[0]])
    output = tmp_path / "out.jsonl"
    _write(output, [{"custom_id": "id-5", "response": {}}])
    result = _batch(threaded_server, source, output, "--json")
    assert result.returncode == 3, result.stderr
    summary = json.loads(result.stdout)
    counts = {key: summary.pop(key) for key in ("input_tokens", "output_tokens", "seconds")}
    assert summary.pop("requests_per_second") >= 0
    assert summary == {
        "succeeded": 5,
        "failed": 0,
        "bad_lines": 1,
        "duplicate_ids": 1,
        "already_done": 1,
    }
    assert counts["input_tokens"] > 0
    assert counts["output_tokens"] > 0
    assert counts["seconds"] > 0
    assert len(_results(output)) == 6
    assert "5 succeeded, 0 failed, 1 bad lines, 1 duplicate ids, 1 already done" in result.stderr


def test_ordered_writes_results_in_input_order(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """--ordered writes the results in the order of the input lines."""
    source = _write(tmp_path / "in.jsonl", [chat_item(f"q{n}", f"id-{n}") for n in range(30)])
    output = tmp_path / "out.jsonl"
    result = _batch(threaded_server, source, output, "--ordered", "--concurrency", "5")
    assert result.returncode == 0, result.stderr
    assert [line["custom_id"] for line in _results(output)] == [f"id-{n}" for n in range(30)]


def test_bad_lines_are_reported_with_their_numbers_and_skipped(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Lines that are not requests are named on stderr by number; the rest run; exit 3."""
    source = _write(
        tmp_path / "in.jsonl",
        [
            chat_item("first", "a"),
            "{not json",
            "[1, 2]",
            {"custom_id": "no-body"},
            chat_item("x", "b") | {"url": "/v1/embeddings"},
            "",
            chat_item("again", "a"),
            chat_item("last", "c"),
            # JSON may escape half a surrogate pair; no output line could hold that id.
            '{"custom_id": "half\\ud800", "body": {"messages": []}}',
            # In a body it is that request's error, not the run's end.
            chat_item("surrogate \udc00", "d"),
            chat_item("accented", "é"),  # not ASCII, but text: fine
        ],
    )
    output = tmp_path / "out.jsonl"
    result = _batch(threaded_server, source, output, "--ordered")
    assert result.returncode == 3
    stderr = result.stderr
    assert "in.jsonl line 9: custom_id 'half\\ud800' holds a lone surrogate, not text" in stderr
    assert "in.jsonl line 2: not JSON" in stderr
    assert "in.jsonl line 3: not a JSON object but list; skipped" in stderr
    assert "in.jsonl line 4: a batch request needs a 'body'" in stderr
    assert "in.jsonl line 5: url must be one of" in stderr
    assert "in.jsonl line 7: duplicate custom_id 'a'; skipped" in stderr
    results = _results(output)
    assert [line["custom_id"] for line in results] == ["a", "c", "d", "é"]
    assert results[2]["error"]["type"] == "InvalidArgumentError"
    assert "surrogate" in results[2]["error"]["message"]  # as the codec words it


def test_a_failed_request_is_an_error_line_and_exit_status_3(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A refused body and a server 400 each get an error line with type, status and message."""
    threaded_server.enqueue(Fault.error(400, "nope"), path=CHAT)
    source = _write(
        tmp_path / "in.jsonl",
        [chat_item("sent", "server-400"), {"custom_id": "bad-body", "body": {"model": "m"}}],
    )
    output = tmp_path / "out.jsonl"
    result = _batch(threaded_server, source, output, "--ordered")
    assert result.returncode == 3, result.stderr
    server_error, local_error = (line["error"] for line in _results(output))
    assert server_error["type"] == "BadRequestError"
    assert server_error["status"] == 400
    assert "nope" in server_error["message"]
    assert set(server_error) == {"type", "status", "message", "request_id"}
    assert local_error["type"] == "InvalidArgumentError"
    assert local_error["status"] is None
    assert "messages must be a list" in local_error["message"]
    assert "0 succeeded, 2 failed" in result.stderr


def test_lines_without_custom_id_get_one_from_their_line_number(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A line without custom_id is identified as line-N, N its line number from 1."""
    source = _write(tmp_path / "in.jsonl", ["", chat_item("one"), chat_item("two")])
    output = tmp_path / "out.jsonl"
    assert _batch(threaded_server, source, output, "--ordered").returncode == 0
    assert [line["custom_id"] for line in _results(output)] == ["line-2", "line-3"]


def test_a_second_run_resumes_after_a_torn_last_line(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Ids already in the output are skipped and a torn last line is dropped and redone."""
    source = _write(tmp_path / "in.jsonl", [chat_item(f"q{n}", f"id-{n}") for n in range(6)])
    output = tmp_path / "out.jsonl"
    finished = [{"custom_id": f"id-{n}", "response": {"stale": True}} for n in range(3)]
    output.write_text(
        "".join(json.dumps(line) + "\n" for line in finished) + '{"custom_id": "id-3", "resp'
    )
    result = _batch(threaded_server, source, output, "--ordered")
    assert result.returncode == 0, result.stderr
    assert "dropped a torn last line (line 4)" in result.stderr
    assert "3 already done" in result.stderr
    lines = _results(output)
    assert [line["custom_id"] for line in lines] == [f"id-{n}" for n in range(6)]
    assert lines[:3] == finished
    sent = [request.json()["messages"][0]["content"] for request in threaded_server.requests]
    assert sorted(sent) == ["q3", "q4", "q5"]


def test_an_output_file_damaged_before_its_end_is_refused(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A line that is not a result, before the last, stops the run with status 1: not our file."""
    source = _write(tmp_path / "in.jsonl", [chat_item("q")])
    output = _write(tmp_path / "out.jsonl", ["hello", {"custom_id": "x", "response": {}}])
    result = _batch(threaded_server, source, output)
    assert result.returncode == 1
    assert "out.jsonl line 1 is not a result line" in result.stderr
    assert threaded_server.requests == []


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--concurrency", "0"), "--concurrency must be an int >= 1"),
        (("--concurrency", "-3"), "--concurrency must be an int >= 1"),
    ],
)
def test_bad_flags_fail_before_anything_is_sent(
    threaded_server: FakeLlamaAPI, tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    """A bad flag is one error line naming it, exit 1, nothing sent."""
    source = _write(tmp_path / "in.jsonl", [chat_item("q")])
    result = _batch(threaded_server, source, tmp_path / "out.jsonl", *flags)
    assert result.returncode == 1
    assert message in result.stderr
    assert threaded_server.requests == []


def test_a_missing_input_file_is_one_error_line(tmp_path: Path) -> None:
    """An input that cannot be read is reported in one line, exit 1, no output file made."""
    result = run("--demo", "batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_leaves_whole_lines_and_the_next_run_finishes(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """Ctrl-C exits 130 with only whole result lines written (and --json's summary); running
    again does the rest."""
    source = _write(tmp_path / "in.jsonl", [chat_item(f"q{n}", f"id-{n}") for n in range(8)])
    output = tmp_path / "out.jsonl"
    threaded_server.enqueue(Fault.stall(), Fault.stall(), path=CHAT)
    command = [COMMAND, "batch", str(source), "-o", str(output), "--concurrency", "2"]
    command += ["--rpm", "10000", "--tpm", "100000000"]  # known limits: no call goes alone first
    command += ["--json"]
    with subprocess.Popen(
        command,
        env={**os.environ, **api_env(threaded_server)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        threaded_server.wait_for_requests(2, timeout=HANG)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, stderr
    assert output.read_text() == ""
    assert json.loads(stdout)["succeeded"] == 0  # --json's summary comes on Ctrl-C too
    result = _batch(threaded_server, source, output)
    assert result.returncode == 0, result.stderr
    assert sorted(line["custom_id"] for line in _results(output)) == sorted(
        f"id-{n}" for n in range(8)
    )


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")
def test_a_progress_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a terminal the bar shows done/total, failures, rate, tokens and ETA."""
    import contextlib
    import pty

    source = _write(tmp_path / "in.jsonl", [chat_item(f"q{n}") for n in range(5)] + ["oops"])
    controller, terminal = pty.openpty()
    try:
        command = [COMMAND, "--demo", "batch", str(source), "-o", str(tmp_path / "out.jsonl")]
        result = subprocess.run(command, stderr=terminal, timeout=60, check=False)
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once everything written has been read
            while chunk := os.read(controller, 4096):
                shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 3
    text = shown.decode().replace("\r\n", "\n")
    assert "in.jsonl line 6: not JSON" in text
    final = text.split("\r\033[K")[-1]
    bar, summary = final.splitlines()
    assert re.fullmatch(r"\[#{24}\] 5/5  0 failed  [\d.]+/s  tokens \d+ in \d+ out  ETA 0s", bar)
    assert summary.startswith("llama-models: batch: 5 succeeded, 0 failed, 1 bad lines")


def test_rpm_keeps_the_batch_within_the_teams_budget(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """--rpm 1 sends one request a minute: with a 5 s timeout the second fails unsent, typed."""
    source = _write(tmp_path / "in.jsonl", [chat_item("one", "a"), chat_item("two", "b")])
    output = tmp_path / "out.jsonl"
    result = _batch(threaded_server, source, output, "--rpm", "1", "--timeout", "5")
    assert result.returncode == 3, result.stderr
    lines = _results(output)
    assert sorted(line["custom_id"] for line in lines) == ["a", "b"]
    assert sorted(next(iter(set(line) - {"custom_id"})) for line in lines) == ["error", "response"]
    assert [line["error"]["type"] for line in lines if "error" in line] == ["RateLimitBudgetError"]
    assert len([r for r in threaded_server.requests if r.path == CHAT]) == 1


@pytest.mark.parametrize("flag", ["--rpm", "--tpm"])
def test_a_bad_budget_is_refused_naming_its_flag(
    threaded_server: FakeLlamaAPI, tmp_path: Path, flag: str
) -> None:
    """A budget below 1 is refused before anything is sent, naming the flag."""
    source = _write(tmp_path / "in.jsonl", [chat_item("one", "a")])
    result = _batch(threaded_server, source, tmp_path / "out.jsonl", flag, "0")
    assert result.returncode == 1, result.stderr
    assert flag in result.stderr
    assert threaded_server.requests == []
