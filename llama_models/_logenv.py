"""``LLAMA_LOG``: the SDK's log on stderr, switched on from the environment.

``LLAMA_LOG=info`` or ``LLAMA_LOG=debug`` (or the official SDK's ``LLAMA_API_CLIENT_LOG``)
gives the ``llama_models`` logger that level and one stderr handler, so a script, a service
or the command line shows its requests and retries without a line of logging code. This is
the one piece of global configuration the SDK does, and only when asked: it touches the
``llama_models`` logger alone, never the root logger, another library's logger or the
warning filters. Every client reads the environment when it is made, so this module is
called from `resolve_config`.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from ._config import LOG_ENVS

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
OFF = "off"
HANDLER_NAME = "llama_models:LLAMA_LOG"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("llama_models")

# Two clients made at once in two threads must not both add a handler.
_lock = threading.Lock()

if TYPE_CHECKING:
    _StreamHandler = logging.StreamHandler[TextIO]
else:  # not subscriptable at run time before Python 3.11
    _StreamHandler = logging.StreamHandler


class _StderrHandler(_StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when a record arrives.

    pytest's ``capsys`` and notebook kernels replace ``sys.stderr``; a handler holding on to
    the stream of the moment it was made would go on writing to a closed or unseen one.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # emit() runs under the handler's lock
        super().emit(record)


def configure_logging(env: Mapping[str, str]) -> None:
    """Turn on the SDK's stderr log if ``LLAMA_LOG`` asks for it; otherwise do nothing.

    The first client that sees ``debug`` or ``info`` sets the level of the ``llama_models``
    logger and gives it a handler; a client made later finds that handler, by its name, and
    changes nothing, so a level the program set in between stays. ``off`` and an empty value
    count as unset. Any other value changes nothing either, and each client that reads it
    logs a warning saying so, which Python prints to stderr even when logging is not set up.
    """
    name = next((name for name in LOG_ENVS if env.get(name)), None)
    if name is None:
        return
    value = env[name].strip().lower()
    level = LEVELS.get(value)
    if level is None:
        if value not in ("", OFF):
            logger.warning(
                "%s=%r is not one of debug, info or off; logging is left as it was",
                name,
                env[name],
            )
        return
    with _lock:
        if any(handler.get_name() == HANDLER_NAME for handler in logger.handlers):
            return
        handler = _StderrHandler()
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
        logger.setLevel(level)
