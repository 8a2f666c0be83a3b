"""``bench/batch_rss.py`` runs the batch command on a generated file and reports its memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "batch_rss.py"
#: Bounds a wait that a regression would turn into a hang; nothing is timed against it.
HANG = 120


def test_a_small_run_reports_its_peak_and_its_resident_set_along_the_way() -> None:
    """One row per size: the peak, and (on Linux) the resident set at 10 %, 50 % and 90 %.

    5,000 lines take a couple of seconds, so samples fall along the run, none above the peak.
    """
    command = [sys.executable, "-W", "error", str(SCRIPT), "--sizes", "5000", "--concurrency", "8"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG, check=False)
    assert done.returncode == 0, done.stderr
    row = re.search(
        r"^\| 5,000 \| [\d.]+ \| [\d,]+ \| ([\d.]+) \| [\d.]+ \| (.*) \|$", done.stdout, re.M
    )
    assert row is not None, done.stdout
    peak = float(row.group(1))
    along = row.group(2).split(" / ")
    assert len(along) == 3
    sampled = [float(rss) for rss in along if rss != "-"]  # "-": the run outpaced the samples
    assert all(0 < rss <= peak for rss in sampled), row.group(0)
    if sys.platform == "linux":
        assert sampled, row.group(0)
