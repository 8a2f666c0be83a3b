"""Serve the fake Llama API from the command line.

``python -m llama_models.testing [--host 127.0.0.1] [--port 0] [--api-key KEY] [--models N]``
prints one line, ``serving on http://HOST:PORT/v1``, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._server import FakeLlamaAPI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llama_models.testing",
        description="Serve a fake Llama API on a local port until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--api-key", default="test-key", help="the accepted API key")
    parser.add_argument(
        "--models",
        type=int,
        default=0,
        metavar="N",
        help="add N synthetic models (synthetic-model-00001, ...) to the default four",
    )
    args = parser.parse_args(argv)
    if args.models < 0:
        parser.error("--models must be >= 0")
    return args


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; Ctrl-C arrives as KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    server = FakeLlamaAPI(api_key=args.api_key, host=args.host, port=args.port)
    server.add_synthetic_models(args.models)
    async with server:
        print(f"serving on {server.base_url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
