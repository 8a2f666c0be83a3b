"""When a failed attempt is tried again: the retry policy of `_retry` applied to one call."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping

from .. import _protocol as proto
from .._retry import failure_is_retryable, parse_retry_after, plan_retry, status_is_retryable
from ._failures import AttemptFailed

__all__ = ["Retries"]

logger = logging.getLogger("llama_models")


class Retries:
    """Decides, and logs, the wait before each retry of a transport's calls."""

    def __init__(self) -> None:
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography

    def after_failure(
        self, failed: AttemptFailed, method: str, retries: int, max_retries: int, remaining: float
    ) -> tuple[float, str]:
        """The wait before retrying a failed attempt and why, or raise its error."""
        delay = None
        if failure_is_retryable(method, failed.stage):
            delay = self._plan(retries, max_retries, None, remaining)
        if delay is None:
            raise failed.error from failed.__cause__
        return delay, failed.error.message

    def after_status(
        self,
        status: int,
        headers: Mapping[str, str],
        raw: bytes,
        method: str,
        url: str,
        retries: int,
        max_retries: int,
        remaining: float,
    ) -> tuple[float, str]:
        """The wait before retrying after an error status and why, or raise the error."""
        now = time.time()
        error = proto.status_error(status, headers, raw, method=method, url=url, now=now)
        delay = None
        if status_is_retryable(method, status, headers):
            delay = self._plan(retries, max_retries, parse_retry_after(headers, now), remaining)
        if delay is None:
            raise error
        return delay, f"HTTP {status}"

    def _plan(
        self, retries: int, max_retries: int, server_wait: float | None, remaining: float
    ) -> float | None:
        return plan_retry(
            retries_made=retries,
            max_retries=max_retries,
            server_wait=server_wait,
            remaining=remaining,
            jitter=self._random.random(),
        )

    def log(
        self, method: str, url: str, retries: int, max_retries: int, delay: float, why: str
    ) -> None:
        logger.info(
            "retrying %s %s in %.2f s (retry %d of %d) after: %s",
            method,
            url,
            delay,
            retries + 1,
            max_retries,
            why,
        )
