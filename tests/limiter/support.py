"""Helpers for the rate-limit tests: a clock moved by hand and a real redis-server."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Why the Redis tests skip where there is no redis-server.
NO_REDIS_SERVER = "redis-server not installed: .ci/run installs it with apt-get"

#: Bounds a wait that a broken redis-server would turn into a hang; nothing is timed by it.
HANG = 30


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock *seconds* forward."""
        self.now += seconds


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Run a redis-server that keeps nothing on disk, listening on a socket in *folder*.

    Yields its ``unix://`` URL once the server has said it is ready, and stops it
    on exit. A Unix socket in a private folder needs no free TCP port, so two
    test runs can never race for one.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise FileNotFoundError(NO_REDIS_SERVER)
    socket = folder / "redis.sock"
    command = [
        executable,
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        "--logfile", "",
        "--daemonize", "no",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder
    )
    log: list[str] = []
    ready = threading.Event()

    def read_log() -> None:
        # Reads to the end, so that the server never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            if "ready to accept connections" in line.lower():
                ready.set()
        ready.set()  # the server has exited: stop waiting

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        if not ready.wait(HANG) or process.poll() is not None:
            raise RuntimeError("redis-server did not start:\n" + "".join(log[-20:]))
        yield f"unix://{socket}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=HANG)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            process.kill()
            process.wait()
        reader.join(HANG)
        assert process.stdout is not None
        process.stdout.close()
