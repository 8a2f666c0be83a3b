"""A short script run against a fake server in a fresh interpreter, with warnings as errors.

The script gets the server's key and base URL as ``sys.argv[1]`` and ``sys.argv[2]``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from llama_models.testing import FakeLlamaAPI

#: Bounds a wait that a regression would turn into a hang; nothing is timed against it.
HANG = 20


def script_command(
    script: str, server: FakeLlamaAPI, *args: str, flags: tuple[str, ...] = ()
) -> list[str]:
    """The command line that runs *script* (dedented) against *server*."""
    return [
        sys.executable,
        "-W",
        "error",
        *flags,
        "-c",
        textwrap.dedent(script),
        server.api_key,
        server.base_url,
        *args,
    ]


def run_script(
    script: str, server: FakeLlamaAPI, *args: str, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run *script* to its end and capture what it printed."""
    return subprocess.run(
        script_command(script, server, *args, flags=flags),
        capture_output=True,
        text=True,
        timeout=HANG * 3,
        check=False,
    )


@contextmanager
def start_script(script: str, server: FakeLlamaAPI) -> Iterator[subprocess.Popen[str]]:
    """Start *script*, with pipes for its output, for a test that signals it.

    On the way out the script is killed if it still runs, and reaped, so a
    failing test leaves no process or pipe behind for a later test to trip on.
    """
    with subprocess.Popen(
        script_command(script, server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            yield proc
        finally:
            proc.kill()
            proc.communicate()
