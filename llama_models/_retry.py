"""The retry policy as pure functions: what may be retried, and after how long."""

from __future__ import annotations

import enum
from collections.abc import Mapping

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: The longest server-requested wait the client will sleep through.
MAX_SERVER_WAIT = 60.0

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({408, 409, 429})


class Stage(enum.Enum):
    """How far a failed attempt got, which decides whether it may be retried."""

    #: Nothing reached the server (connection refused, DNS, connect timeout).
    BEFORE_SEND = "before_send"
    #: The request may have reached the server (dropped connection, read timeout).
    AFTER_SEND = "after_send"
    #: A local mistake that a retry cannot fix (TLS certificate, bad URL).
    LOCAL = "local"


def failure_is_retryable(method: str, stage: Stage) -> bool:
    """Whether a request that failed without a response may be sent again.

    A POST is only resent when the server cannot have acted on it.
    """
    if stage is Stage.LOCAL:
        return False
    return stage is Stage.BEFORE_SEND or method in IDEMPOTENT_METHODS


def status_is_retryable(method: str, status: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this *status* may be retried.

    ``x-should-retry`` from the server wins. Otherwise idempotent requests retry
    408, 409, 429 and 5xx; other requests retry only 429, which the server sends
    before doing any work.
    """
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    if method not in IDEMPOTENT_METHODS:
        return status == 429
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the server asked for, in seconds, or ``None`` if it asked for none.

    Reads ``retry-after-ms``, then ``Retry-After`` as seconds or as an HTTP date
    (relative to *now*, Unix seconds). Unparseable values count as absent.
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return _finite(float(value)) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _finite(float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # slow to import; dates are rare

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return when.timestamp() - now


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return value


def backoff_delay(retries_made: int, jitter: float) -> float:
    """Exponential backoff: 0.5 s doubling to 8 s, scaled by 75-100 % jitter.

    *jitter* is a random number in ``[0, 1)``.
    """
    return min(INITIAL_RETRY_DELAY * 2.0**retries_made, MAX_RETRY_DELAY) * (1.0 - 0.25 * jitter)


def plan_retry(
    *,
    retries_made: int,
    max_retries: int,
    server_wait: float | None,
    remaining: float,
    jitter: float,
) -> float | None:
    """How long to wait before the next attempt, or ``None`` to give up now.

    A server-requested wait is used as given, but one longer than
    `MAX_SERVER_WAIT` or than the time the caller has left is not slept: the
    error is raised at once instead. The same holds for a backoff that would
    outlast the deadline.
    """
    if retries_made >= max_retries:
        return None
    if server_wait is not None and server_wait > 0:
        if server_wait > MAX_SERVER_WAIT or server_wait >= remaining:
            return None
        return server_wait
    delay = backoff_delay(retries_made, jitter)
    return delay if delay < remaining else None
