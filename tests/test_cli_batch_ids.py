"""The ids ``llama-models batch`` remembers: an `IdSet` on disk, and no file left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from batch_support import chat_item
from cli_support import COMMAND, api_env
from script_support import HANG

from llama_models._cli._idset import IdSet
from llama_models.testing import FakeLlamaAPI, Fault

CHAT = "/v1/chat/completions"
#: SQLite names its temporary files so.
_SQLITE_TEMP = "etilqs_"
#: Enough ids of this length to outgrow a set's page cache, so its file is made.
_SPILLING = 60_000
_PAD = "x" * 50

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/fd")


def _sqlite_temp_files(pid: int | str = "self") -> list[str]:
    """The SQLite temporary files process *pid* has open, as /proc shows their paths."""
    found = []
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        try:
            target = os.readlink(f"{folder}/{fd}")
        except OSError:  # closed meanwhile
            continue
        if _SQLITE_TEMP in target:
            found.append(target)
    return found


def test_the_id_set_tells_ids_apart_exactly() -> None:
    """IdSet reports new and repeated ids across many transactions, keeping ids exact."""
    odd = ["", "a", "a ", "A", "a\x00b", "\ud800", "é", "e\u0301", "😀" * 40]
    with IdSet() as ids:
        assert all(ids.add(f"id-{n}") for n in range(20_000))
        assert all(ids.add(key) for key in odd)
        assert not ids.add("id-42")
        assert not ids.add("\ud800")
        assert len(ids) == 20_000 + len(odd)
        assert all(f"id-{n}" in ids for n in range(20_000))
        assert all(key in ids for key in odd)
        assert not any(f"other-{n}" in ids for n in range(2_000))
        assert "id-20000" not in ids
        assert 42 not in ids


def test_an_empty_id_set_answers_without_a_database() -> None:
    """An IdSet nothing was added to holds no ids and opens nothing; it closes twice fine."""
    ids = IdSet()
    with ids:
        assert "a" not in ids
        assert len(ids) == 0
    ids.close()


def test_a_closed_id_set_refuses_to_be_used() -> None:
    """Adding to or asking a closed IdSet raises ValueError rather than reopening it."""
    with IdSet() as ids:
        ids.add("a")
    with pytest.raises(ValueError, match="closed"):
        ids.add("b")
    with pytest.raises(ValueError, match="closed"):
        _ = "a" in ids


@linux_only
def test_the_id_set_spills_to_an_unlinked_file_it_closes() -> None:
    """Past its page cache an IdSet writes to a file already unlinked, and close frees it."""
    before = _sqlite_temp_files()
    with IdSet() as ids:
        for n in range(_SPILLING):
            ids.add(f"id-{n:06d}-{_PAD}")
        during = [path for path in _sqlite_temp_files() if path not in before]
        assert len(during) == 1
        assert during[0].endswith(" (deleted)")
        assert f"id-{_SPILLING - 1:06d}-{_PAD}" in ids
    assert [path for path in _sqlite_temp_files() if path not in before] == []


def _resumable(tmp_path: Path, done: int, new: int) -> tuple[Path, Path]:
    """An output file holding *done* results, and an input of *new* other requests."""
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    with output.open("w") as file:
        for n in range(done):
            file.write(json.dumps({"custom_id": f"id-{n:06d}-{_PAD}", "response": {}}) + "\n")
    items = [chat_item(f"q{n}", f"new-{n}") for n in range(new)]
    source.write_text("".join(json.dumps(item) + "\n" for item in items))
    return source, output


def _env(server: FakeLlamaAPI, temp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SQLITE_TMPDIR"}
    return {**env, **api_env(server), "TMPDIR": str(temp)}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
@linux_only
def test_no_id_file_is_left_after_ctrl_c_or_a_finished_run(
    threaded_server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A run keeps its ids in an unlinked file of TMPDIR; after Ctrl-C or the end, none is left."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    source, output = _resumable(tmp_path, _SPILLING, 4)
    threaded_server.enqueue(Fault.stall(), Fault.stall(), path=CHAT)
    command = [COMMAND, "batch", str(source), "-o", str(output), "--concurrency", "2"]
    command += ["--rpm", "10000", "--tpm", "100000000"]  # known limits: no call goes alone first
    with subprocess.Popen(
        command,
        env=_env(threaded_server, temp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        threaded_server.wait_for_requests(2, timeout=HANG)
        open_files = _sqlite_temp_files(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, stderr
    assert len(open_files) == 1, open_files
    assert open_files[0] == f"{temp}/{Path(open_files[0]).name}"
    assert open_files[0].endswith(" (deleted)")
    assert list(temp.iterdir()) == []

    result = subprocess.run(
        command, env=_env(threaded_server, temp), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "4 succeeded" in result.stderr
    assert len(output.read_text().splitlines()) == _SPILLING + 4
    assert list(temp.iterdir()) == []
