"""``bench/ratelimit.py`` runs against the enforcing fake and reports what the server counted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "ratelimit.py"
#: Bounds a wait that a regression would turn into a hang; nothing is timed against it.
HANG = 120


def test_the_storm_without_a_limiter_is_counted(tmp_path: Path) -> None:
    """Every call ends as a success or a failure, and 10 RPM lets at least 10 calls through."""
    results = tmp_path / "ratelimit.md"
    command = [sys.executable, "-W", "error", str(SCRIPT), "--calls", "15", "--limits", "10"]
    command += ["--window", "60", "--max-retries", "0", "--only", "without"]
    command += ["--results", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG, check=False)
    assert done.returncode == 0, done.stderr
    assert "A minute is 60 s" in done.stdout
    row = re.search(r"^\| 10 \| without limiter \| (\d+) \| (\d+) \| (.*?) \|", done.stdout, re.M)
    assert row is not None, done.stdout
    assert (row.group(1), row.group(2), row.group(3)) == ("5", "10", "5 (5 RateLimitError)")
    assert results.read_text() == done.stdout


def test_the_storm_with_the_limiter_costs_no_429(tmp_path: Path) -> None:
    """With the client-side limiter, told the limit or learning it, no call meets a 429."""
    results = tmp_path / "ratelimit.md"
    command = [sys.executable, "-W", "error", str(SCRIPT), "--calls", "15", "--limits", "10"]
    command += ["--window", "0.5", "--results", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG, check=False)
    assert done.returncode == 0, done.stderr
    for label in ("limiter, told the limit", "limiter, adaptive"):
        row = re.search(rf"^\| 10 \| {label} \| (\d+) \| (\d+) \| (.*?) \|", done.stdout, re.M)
        assert row is not None, done.stdout
        assert (row.group(1), row.group(2), row.group(3)) == ("0", "15", "0")
