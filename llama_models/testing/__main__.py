"""Serve the fake Llama API from the command line.

``python -m llama_models.testing [--host 127.0.0.1] [--port 0] [--api-key KEY] [--models N]
[--stream-chunks N] [--rpm N] [--tpm N] [--window S] [--retry-after]`` prints ``serving on http://HOST:PORT/v1`` (always the first line, for
programs that start it), then the line to paste into another shell so that the SDK and the
``llama-models`` command talk to it::

    export LLAMA_API_KEY=test-key LLAMA_API_BASE_URL=http://127.0.0.1:PORT/v1

(on Windows, the same for PowerShell), and serves until SIGINT or SIGTERM.

``--stream-chunks N`` is for throughput benchmarks: every streamed chat completion is then
answered with the same text reply of N ``progress`` events (N + 3 events with ``start``,
``complete`` and ``metrics``), each delta the text ``"word "``. Plain chat completions keep
the default reply.

``--rpm``, ``--tpm``, ``--window`` and ``--retry-after`` enforce a `RateLimitRule` (any one
of them does; the others keep the rule's defaults), and the second line then describes it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import shlex
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from ._limits import RateLimitRule
from ._replies import ChatReply
from ._server import FakeLlamaAPI

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler, Middleware

#: The text of every progress event a ``--stream-chunks`` reply sends.
STREAM_CHUNK = "word "
_CHAT_PATH = "/v1/chat/completions"


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
    parser.add_argument(
        "--stream-chunks",
        type=int,
        default=None,
        metavar="N",
        help="answer every streamed chat completion with a text reply of N chunks "
        "(for benchmarks; plain chat completions keep the default reply)",
    )
    limits = parser.add_argument_group(
        "rate limit", "enforce a limit per model on chat completions (any of these flags does)"
    )
    limits.add_argument("--rpm", type=int, metavar="N", help="requests per window (3000)")
    limits.add_argument("--tpm", type=int, metavar="N", help="tokens per window (2500000)")
    limits.add_argument(
        "--window", type=float, metavar="S", help="window length in seconds (60; 3 = a fast minute)"
    )
    limits.add_argument(
        "--retry-after", action="store_true", help="send Retry-After on 429s (the API sends none)"
    )
    args = parser.parse_args(argv)
    if args.models < 0:
        parser.error("--models must be >= 0")
    if args.stream_chunks is not None and args.stream_chunks < 1:
        parser.error("--stream-chunks must be >= 1")
    for flag, value in (("--rpm", args.rpm), ("--tpm", args.tpm)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be >= 1")
    if args.window is not None and not (math.isfinite(args.window) and args.window > 0):
        parser.error("--window must be a finite number of seconds > 0")
    args.rate_limit = rate_limit_rule(args)
    return args


def rate_limit_rule(args: argparse.Namespace) -> RateLimitRule | None:
    """The rule the rate-limit flags ask for, or ``None`` when none was given."""
    given = {
        name: value
        for name, value in (("requests", args.rpm), ("tokens", args.tpm), ("window", args.window))
        if value is not None
    }
    if not given and not args.retry_after:
        return None
    return RateLimitRule(**given, retry_after=args.retry_after)


def describe_rule(rule: RateLimitRule) -> str:
    """One line that says what the server enforces."""
    retry_after = ", with Retry-After" if rule.retry_after else ""
    return (
        f"Rate limit per model: {rule.requests} requests and {rule.tokens} tokens "
        f"in any {rule.window:g} s{retry_after}."
    )


def stream_reply_middleware(server: FakeLlamaAPI, chunks: int) -> Middleware:
    """A middleware that scripts the `chunks`-chunk reply for each streamed chat completion.

    It queues the reply as a ``"stream": true`` request arrives, unless a reply is already
    waiting (one left by a streamed request the server rejected), so replies never pile up.
    """
    reply = ChatReply.text(STREAM_CHUNK * chunks, chunk_size=len(STREAM_CHUNK))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        if request.method == "POST" and path == _CHAT_PATH and not server.pending_replies:
            try:
                streaming = json.loads(await request.read()).get("stream") is True
            except (ValueError, AttributeError):
                streaming = False  # the handler rejects the body itself
            if streaming:
                server.enqueue_replies(reply)
        return await handler(request)

    return middleware


def environment_line(api_key: str, base_url: str, *, windows: bool = False) -> str:
    """The shell line that sets the key and URL the SDK reads: POSIX ``export`` or PowerShell."""
    values = {"LLAMA_API_KEY": api_key, "LLAMA_API_BASE_URL": base_url}
    if windows:
        quoted = {name: "'" + value.replace("'", "''") + "'" for name, value in values.items()}
        return "; ".join(f"$env:{name} = {value}" for name, value in quoted.items())
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())


def client_base_url(server: FakeLlamaAPI, host: str) -> str:
    """The URL a client on this machine uses: a wildcard *host* is reached through loopback.

    ``http://0.0.0.0:PORT/v1`` is not a loopback URL, so the SDK would refuse it over plain
    http; ``127.0.0.1`` (or ``::1``) reaches the same server and is allowed.
    """
    try:
        wildcard = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        wildcard = False
    if not wildcard:
        return server.base_url
    loopback = "[::1]" if ":" in host else "127.0.0.1"
    return f"http://{loopback}:{server.port}/v1"


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; Ctrl-C arrives as KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    rule = args.rate_limit
    server = FakeLlamaAPI(api_key=args.api_key, host=args.host, port=args.port, rate_limit=rule)
    server.add_synthetic_models(args.models)
    if args.stream_chunks is not None:
        server.app.middlewares.append(stream_reply_middleware(server, args.stream_chunks))
    async with server:
        line = environment_line(
            server.api_key, client_base_url(server, args.host), windows=sys.platform == "win32"
        )
        limit = "" if rule is None else describe_rule(rule) + "\n"
        print(  # one write, so the block arrives whole even with PYTHONUNBUFFERED set
            f"serving on {server.base_url}\n"
            f"{limit}"
            "To point the SDK and the llama-models command at it, paste into another shell:\n"
            f"  {line}\n"
            "Ctrl-C stops the server.\n",
            end="",
            flush=True,
        )
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
