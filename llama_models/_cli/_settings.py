"""The options every command shares, and the checks that word their mistakes as flags.

The library words its messages for Python callers (``pass allow_insecure_http=True``), but a
user of the command can change only flags and environment variables. So the command checks
every value it was given before it makes a client or sends anything, with the library's own
validators, and gives them the name the user typed: ``--base-url``, or ``LLAMA_API_BASE_URL``
when the URL came from there. `FLAGS` is the one table from a library argument to its flag.
A few errors come later, from a call, and name a client setting; `error_line` words those.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .._config import (
    API_KEY_ENV,
    BASE_URL_ENVS,
    DEFAULT_BASE_URL,
    validate_api_key,
    validate_base_url,
    validate_timeout,
)
from ..errors import APIStatusError, APIStreamError, InvalidArgumentError, LlamaError

__all__ = [
    "FLAGS",
    "add_shared_options",
    "client_settings",
    "error_line",
    "fill_defaults",
    "refuse_demo_mix",
]

#: The flag that sets each library argument a command passes on, for the messages.
FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "api_key": "--api-key",
        "base_url": "--base-url",
        "allow_insecure_http": "--allow-insecure-http",
        "timeout": "--timeout",
        "model": "--model",
        "max_completion_tokens": "--max-tokens",
        "temperature": "--temperature",
        "mime_type": "--mime-type",
        "part_size": "--part-size",
        "idle_timeout": "--idle-timeout",
        "concurrency": "--concurrency",
        "requests_per_minute": "--rpm",
        "tokens_per_minute": "--tpm",
    }
)

# The client settings that errors raised during a call name, as in "no event for 60 s
# (idle_timeout)" or "larger than max_response_bytes (33554432 bytes)": a setting with a flag
# is named as the flag; the one the command leaves at the library's default is described,
# since no flag changes it (a larger answer is the server's fault, not a limit to raise).
_CALL_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "idle_timeout": FLAGS["idle_timeout"],
        "max_response_bytes": "the command's size limit",
    }
)
# The library names a setting as "(name)" or "than name"; it is replaced only there, not
# wherever the word turns up (in a URL, say).
_SETTING_MENTION = re.compile(rf"(?:(?<=\()|(?<=than ))(?:{'|'.join(_CALL_SETTINGS)})\b")

# Shared options are SUPPRESSed so that they may stand before or after a subcommand;
# these are their values when given nowhere.
_DEFAULTS = {
    "api_key": None,
    "base_url": None,
    "allow_insecure_http": False,
    "timeout": 60.0,
    "json": False,
    "demo": False,
}
# What --demo replaces, so giving one of them as well is a contradiction.
_NOT_WITH_DEMO = ("api_key", "base_url")


def add_shared_options(common: argparse.ArgumentParser) -> None:
    """Add the options every command takes to *common*, a parent parser."""
    common.add_argument(
        FLAGS["api_key"],
        default=argparse.SUPPRESS,
        metavar="KEY",
        help=f"API key (default: ${API_KEY_ENV})",
    )
    common.add_argument(
        FLAGS["base_url"],
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"API root (default: ${BASE_URL_ENVS[0]} or {DEFAULT_BASE_URL})",
    )
    common.add_argument(
        FLAGS["allow_insecure_http"],
        action="store_true",
        default=argparse.SUPPRESS,
        help="allow a plain http:// URL to another machine, which sends the key unencrypted",
    )
    common.add_argument(
        FLAGS["timeout"],
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help=f"seconds per call (default: {_DEFAULTS['timeout']:g})",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON"
    )
    common.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="answer from a built-in fake server: no key, no network "
        f"(not with {FLAGS['api_key']} or {FLAGS['base_url']})",
    )


def refuse_demo_mix(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with a usage error (status 2) if --demo comes with a key or a URL to use instead."""
    if not getattr(args, "demo", False):
        return
    given = [FLAGS[name] for name in _NOT_WITH_DEMO if hasattr(args, name)]
    if given:
        parser.error(
            f"argument --demo: not allowed with {' or '.join(given)} "
            "(the demo answers from a built-in fake server, with its own key and URL)"
        )


def fill_defaults(args: argparse.Namespace) -> None:
    """Give every shared option that was not given its default value."""
    for name, default in _DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)


def client_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """The `AsyncLlamaClient` arguments the shared options ask for, checked.

    The key and the URL are looked up as the library would (flag, then environment, then
    default), so that a mistake is reported under the name the user set it by. With
    ``--demo`` there is only the timeout: the demo server brings its own key and URL.
    """
    settings: dict[str, Any] = {"timeout": validate_timeout(args.timeout, FLAGS["timeout"])}
    if getattr(args, "rate_limited", False):  # batch: many calls, one budget
        from .._ratelimit._settings import RateLimit

        settings["rate_limit"] = RateLimit(
            requests_per_minute=args.requests_per_minute,
            tokens_per_minute=args.tokens_per_minute,
        )
    if args.demo:
        return settings
    base_url, url_names = args.base_url, FLAGS
    if base_url is None:
        source = next((name for name in BASE_URL_ENVS if environ.get(name)), None)
        if source is not None:
            base_url, url_names = environ[source], {**FLAGS, "base_url": source}
        else:
            base_url = DEFAULT_BASE_URL
    validate_base_url(base_url, allow_insecure_http=args.allow_insecure_http, names=url_names)
    api_key, key_names = args.api_key, FLAGS
    if api_key is None:
        api_key, key_names = environ.get(API_KEY_ENV) or None, {**FLAGS, "api_key": API_KEY_ENV}
    if api_key is None:
        raise InvalidArgumentError(
            f"no API key: pass {FLAGS['api_key']} KEY or set the {API_KEY_ENV} environment "
            "variable (or try --demo, which needs neither)"
        )
    validate_api_key(api_key, names=key_names)
    return {
        **settings,
        "api_key": api_key,
        "base_url": base_url,
        "allow_insecure_http": args.allow_insecure_http,
    }


def error_line(exc: LlamaError) -> str:
    """The message of *exc* for the command, with each client setting it names worded so."""
    if isinstance(exc, APIStatusError | APIStreamError):  # the server's words, kept as they are
        return str(exc)
    return _SETTING_MENTION.sub(lambda match: _CALL_SETTINGS[match.group()], str(exc))
