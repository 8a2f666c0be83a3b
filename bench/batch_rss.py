"""Throughput and peak memory of ``llama-models batch`` on inputs of growing size.

For each size, writes an input file of that many chat requests, runs the
``llama-models batch`` command on it as a subprocess against the fake Llama API
(``python -m llama_models.testing``, in a process of its own), and reports the
command's requests per second and its peak resident set size. Flat memory shows
as a peak that stays put while the input grows a hundredfold.

    python bench/batch_rss.py                       # 10,000 and 100,000 lines
    python bench/batch_rss.py --sizes 10000 100000 1000000 --concurrency 32

The fake server announces, and the command is given, a rate limit far above what
one machine can send (``--rpm``, ``--tpm``), so the command runs as fast as it can:
the command keeps to the limits a server announces, and the fake's default, 3,000
requests a minute, would be all a run measured.

The peak is read for each run on its own: from ``os.wait4`` (the rusage of that
one child) and from ``/proc``'s ``VmHWM`` while it runs, whichever is higher.
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest of all children
waited for so far, is printed alongside. The fake server is not waited for until
the end, so it never counts. On Linux the command's resident set is also sampled
every tenth of a second from ``/proc``, with the lines written so far, and the table
shows it when a tenth, half, and nine tenths of the lines were done: flat memory
is the same number in all three. Only ratios between sizes mean
anything: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _processes import FakeServer

_COMMAND = str(Path(sys.executable).with_name("llama-models"))
_MODEL = "Llama-3.3-70B-Instruct"


def _write_input(path: Path, lines: int) -> None:
    with path.open("w") as file:
        for number in range(lines):
            body = {"model": _MODEL, "messages": [{"role": "user", "content": f"q {number}"}]}
            file.write(json.dumps({"custom_id": f"r{number}", "body": body}) + "\n")


_UNLIMITED = (100_000_000, 100_000_000_000)  # requests and tokens a minute


class _Sampler(threading.Thread):
    """Reads a process's resident set (KiB) and the lines of its output, until told to stop."""

    def __init__(self, pid: int, output: Path) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[int, int]] = []  # (lines written, RSS in KiB)
        #: The largest peak (VmHWM, KiB) /proc reported while the process ran.
        self.high = 0
        self._status = Path(f"/proc/{pid}/status")
        self._output = output
        self._done = threading.Event()

    def run(self) -> None:
        lines = offset = 0
        while not self._done.wait(0.1):
            try:
                status = self._status.read_text()
            except OSError:  # the process has ended, or this is not Linux
                return
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if "VmRSS" not in fields:  # exited, not yet reaped: no memory left to read
                return
            rss = int(fields["VmRSS"].split()[0])
            self.high = max(self.high, int(fields.get("VmHWM", "0 kB").split()[0]))
            if self._output.exists():
                with self._output.open("rb") as file:
                    file.seek(offset)
                    chunk = file.read()
                offset += len(chunk)
                lines += chunk.count(b"\n")
            self.samples.append((lines, rss))

    def stop(self) -> None:
        self._done.set()
        self.join()

    def at(self, lines: int) -> str:
        """The RSS sampled once *lines* were written, in MiB, or "-" without samples."""
        rss = next((rss for done, rss in self.samples if done >= lines), None)
        return "-" if rss is None else f"{rss / 1024:.1f}"


def _run(
    server: FakeServer, source: Path, output: Path, concurrency: int
) -> tuple[float, int, _Sampler]:
    """Run the command; return its wall seconds, its peak RSS in KiB, and the RSS samples."""
    env = {**os.environ, "LLAMA_API_KEY": server.api_key, "LLAMA_API_BASE_URL": server.base_url}
    command = [_COMMAND, "batch", str(source), "-o", str(output)]
    command += ["--concurrency", str(concurrency)]
    command += ["--rpm", str(_UNLIMITED[0]), "--tpm", str(_UNLIMITED[1])]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    sampler = _Sampler(proc.pid, output)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"llama-models batch exited {proc.returncode}:\n{stderr}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS. Linux updates the peak it keeps
    # for rusage lazily, so /proc's running VmHWM can be a little higher: take both.
    peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    peak = max(peak, sampler.high)
    return seconds, peak, sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, --concurrency {args.concurrency}"
    )
    print(
        "| lines | seconds | requests/s | peak RSS (MiB) | RUSAGE_CHILDREN max (MiB) "
        "| RSS at 10 % / 50 % / 90 % (MiB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeServer(api_key="bench-key", rpm=_UNLIMITED[0], tpm=_UNLIMITED[1]) as server,
    ):
        for size in args.sizes:
            source, output = Path(folder, "in.jsonl"), Path(folder, "out.jsonl")
            output.unlink(missing_ok=True)
            _write_input(source, size)
            seconds, peak, sampler = _run(server, source, output, args.concurrency)
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            along = " / ".join(sampler.at(size * tenths // 10) for tenths in (1, 5, 9))
            print(
                f"| {size:,} | {seconds:.1f} | {size / seconds:,.0f} | {peak / 1024:.1f} "
                f"| {children / 1024:.1f} | {along} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
