"""The fake's rate limiting: reported only (the default), or enforced per model by a rule.

Without a rule the server behaves as it always has: one 60-second window, counted by
every authenticated request, reported in ``x-ratelimit-*`` headers on every answer and
never enforced. With a `RateLimitRule` it behaves like the hosted API as far as the
evidence goes (llama-api.md §2.3, §10): a limit per model on chat completions, the
four headers on chat completions only, a 429 with the body a user saw
(meta-llama/llama-models issue #354), and no ``Retry-After`` unless asked for.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable

import attrs

from ._limits import RateLimitRule, RateLimitStats
from ._window import RateLimitWindow

__all__ = ["Admission", "RateLimiter"]

TITLE = "Too Many Requests"
_DETAIL = (
    "You have exceeded the maximum number of {} allowed within a given time frame. "
    "Wait a bit and try again."
)


@attrs.frozen
class Admission:
    """The limiter's answer to one chat completion: let through or not, and its headers."""

    allowed: bool
    #: Rate-limit headers for the answer (empty when the server reports them on every answer).
    headers: dict[str, str]
    #: Why it was refused, in the API's words; empty when allowed.
    detail: str = ""


_ALLOWED = Admission(True, {})


class _SlidingWindow:
    """One model's requests and tokens in the last `span` seconds, as timestamped entries."""

    __slots__ = ("_requests", "_span", "_token_sum", "_tokens")

    def __init__(self, span: float) -> None:
        self._span = span
        self._requests: collections.deque[float] = collections.deque()
        self._tokens: collections.deque[tuple[float, int]] = collections.deque()
        self._token_sum = 0

    def expire(self, now: float) -> tuple[int, int]:
        """Drop what has left the window; return the requests and tokens still in it.

        An entry made at ``t`` counts while ``now < t + span``.
        """
        cutoff = now - self._span
        requests, tokens = self._requests, self._tokens
        while requests and requests[0] <= cutoff:
            requests.popleft()
        while tokens and tokens[0][0] <= cutoff:
            self._token_sum -= tokens.popleft()[1]
        return len(requests), self._token_sum

    def admit(self, now: float, tokens: int) -> None:
        self._requests.append(now)
        self.add_tokens(now, tokens)

    def add_tokens(self, now: float, tokens: int) -> None:
        if tokens:
            self._tokens.append((now, tokens))
            self._token_sum += tokens

    def wait(self, now: float, rule: RateLimitRule, tokens: int) -> float | None:
        """Seconds until a request of `tokens` prompt tokens would fit, or ``None`` if never."""
        if tokens > rule.tokens:
            return None
        times = [0.0]
        excess = len(self._requests) + 1 - rule.requests
        if excess > 0:
            times.append(self._requests[excess - 1] + self._span - now)
        over = self._token_sum + tokens - rule.tokens
        for stamp, count in self._tokens:
            if over <= 0:
                break
            over -= count
            times.append(stamp + self._span - now)
        return max(times)


class RateLimiter:
    """Counts chat completions per model and, under a rule, decides which get through.

    Thread-safe: the server counts on its event loop while tests read the statistics
    from anywhere.
    """

    def __init__(self, rule: RateLimitRule | None, clock: Callable[[], float]) -> None:
        if rule is not None and not isinstance(rule, RateLimitRule):
            raise TypeError(f"rate_limit must be a RateLimitRule, got {type(rule).__name__}")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        self._rule = rule
        self._clock = clock
        self._reported = RateLimitWindow(clock) if rule is None else None
        self._windows: dict[str, _SlidingWindow] = {}
        self._stats: dict[str, list[int]] = {}  # model -> [admitted, rejected, tokens]
        self._lock = threading.Lock()

    def common_headers(self) -> dict[str, str]:
        """Headers for every authenticated answer: the reported window's, or none under a rule.

        Counts the request against the reported window, as the server always has.
        """
        if self._reported is None:
            return {}
        return self._reported.headers()

    def admit(self, model: str, prompt_tokens: int) -> Admission:
        """Let a chat completion with `prompt_tokens` through, or refuse it."""
        rule = self._rule
        with self._lock:
            stats = self._stats.setdefault(model, [0, 0, 0])
            if rule is None:
                stats[0] += 1
                return _ALLOWED
            window = self._windows.get(model)
            if window is None:
                window = self._windows[model] = _SlidingWindow(rule.window)
            now = self._clock()
            requests, tokens = window.expire(now)
            if requests >= rule.requests or tokens + prompt_tokens > rule.tokens:
                stats[1] += 1
                what = "requests" if requests >= rule.requests else "tokens"
                headers = _headers(rule, requests, tokens)
                if rule.retry_after:
                    wait = window.wait(now, rule, prompt_tokens)
                    if wait is not None:
                        headers["retry-after"] = str(max(1, math.ceil(wait)))
                return Admission(False, headers, _DETAIL.format(what))
            window.admit(now, prompt_tokens)
            stats[0] += 1
            stats[2] += prompt_tokens
            return Admission(True, _headers(rule, requests + 1, tokens + prompt_tokens))

    def completed(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Count the tokens of an admitted completion's reply, now that it is made."""
        with self._lock:
            stats = self._stats[model]
            if self._reported is not None:
                self._reported.tokens += prompt_tokens + completion_tokens
                stats[2] += prompt_tokens + completion_tokens
                return
            window = self._windows[model]
            window.add_tokens(self._clock(), completion_tokens)
            stats[2] += completion_tokens

    def stats(self) -> dict[str, RateLimitStats]:
        """A snapshot of the counts, per model, in the order the models were first asked for."""
        with self._lock:
            return {
                model: RateLimitStats(admitted=admitted, rejected=rejected, tokens=tokens)
                for model, (admitted, rejected, tokens) in self._stats.items()
            }


def _headers(rule: RateLimitRule, requests: int, tokens: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(rule.requests),
        "x-ratelimit-remaining-requests": str(max(0, rule.requests - requests)),
        "x-ratelimit-limit-tokens": str(rule.tokens),
        "x-ratelimit-remaining-tokens": str(max(0, rule.tokens - tokens)),
    }
