"""The fake's ``x-ratelimit-*`` bookkeeping: a 60-second window that is reported, never enforced."""

from __future__ import annotations

import time
from collections.abc import Callable

REQUEST_LIMIT = 3000
TOKEN_LIMIT = 2_500_000
WINDOW_SECONDS = 60.0


class RateLimitWindow:
    """Counts requests and tokens in the current window and renders the headers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._requests = 0
        # Stays 0 until an endpoint that reports token usage (chat) adds to it.
        self.tokens = 0

    def headers(self) -> dict[str, str]:
        """Count one request and return the rate-limit headers for its response."""
        now = self._clock()
        if now - self._start >= WINDOW_SECONDS:
            self._start = now
            self._requests = 0
            self.tokens = 0
        self._requests += 1
        return {
            "x-ratelimit-limit-requests": str(REQUEST_LIMIT),
            "x-ratelimit-remaining-requests": str(max(0, REQUEST_LIMIT - self._requests)),
            "x-ratelimit-limit-tokens": str(TOKEN_LIMIT),
            "x-ratelimit-remaining-tokens": str(max(0, TOKEN_LIMIT - self.tokens)),
        }
