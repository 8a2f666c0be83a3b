"""Child processes: the fake Llama API servers, and fresh interpreters that time an import."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from types import TracebackType

__all__ = ["FakeServer", "bytecode_env", "import_seconds"]

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0


class FakeServer:
    """``python -m llama_models.testing`` in a subprocess, so it gets a core of its own.

    ::

        with FakeServer(api_key="k", extra_models=9996) as server:
            server.base_url  # "http://127.0.0.1:PORT/v1"

    With *stream_chunks*, every streamed chat completion gets a text reply of that many
    chunks (``--stream-chunks``); plain chat completions get the default reply. With
    *rpm* or *tpm* it enforces and announces that limit of requests or tokens a minute
    rather than announcing its default 3,000 requests a minute.
    """

    def __init__(
        self,
        *,
        api_key: str,
        extra_models: int = 0,
        stream_chunks: int | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.extra_models = extra_models
        self.stream_chunks = stream_chunks
        self.rpm = rpm
        self.tpm = tpm
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> FakeServer:
        command = [sys.executable, "-m", "llama_models.testing", "--port", "0"]
        command += ["--api-key", self.api_key, "--models", str(self.extra_models)]
        if self.stream_chunks is not None:
            command += ["--stream-chunks", str(self.stream_chunks)]
        for flag, limit in (("--rpm", self.rpm), ("--tpm", self.tpm)):
            if limit is not None:
                command += [flag, str(limit)]
        self._proc = proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            line = _read_line(proc, _START_TIMEOUT)
            prefix = "serving on "
            if not line.startswith(prefix):
                raise RuntimeError(f"the fake server did not start; it printed {line!r}")
            self.base_url = line[len(prefix) :].strip()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        """SIGINT, a bounded wait, then SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of output, waiting at most *timeout* seconds."""
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise RuntimeError(f"the fake server printed nothing for {timeout:g} s") from None


_IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)


def bytecode_env(cache_dir: str) -> dict[str, str]:
    """The environment for import probes: bytecode cached under *cache_dir*.

    Installed packages import from cached bytecode, so the probes should too, even
    when ``PYTHONDONTWRITEBYTECODE`` is set (as in many containers) or the project is
    an editable checkout; a separate cache prefix keeps the checkout untouched.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def import_seconds(module: str, env: Mapping[str, str]) -> float:
    """Seconds ``import module`` takes in a fresh interpreter (startup excluded)."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr.strip()}")
    return float(result.stdout)
