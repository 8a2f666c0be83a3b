"""The rate limit a fake server can enforce, and what it counted: plain public values."""

from __future__ import annotations

import math

import attrs

from ._window import REQUEST_LIMIT, TOKEN_LIMIT, WINDOW_SECONDS

__all__ = ["RateLimitRule", "RateLimitStats"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


@attrs.frozen(kw_only=True)
class RateLimitRule:
    """A per-model limit on requests and tokens that `FakeLlamaAPI` enforces.

    The hosted API limits each team per model, in requests and in tokens per minute,
    and answers a request over either limit with a 429 (llama-api.md §2.3, §10). The
    fake keeps a **sliding window** per model: a chat completion is admitted only if,
    counting it, at most `requests` requests and at most `tokens` tokens fall in the
    last `window` seconds. That is the strictest reading of "N per minute" (no burst of
    2N across a minute boundary, as a fixed window would allow), so a client that keeps
    to it keeps to any looser limiter too.

    Tokens count as the fake counts them everywhere (whitespace-separated words): the
    prompt's when the request is admitted, which must fit in what is left, and the
    completion's once the reply is made, as its metrics report them. A rejected request
    counts nothing, so a client that keeps retrying is not locked out for longer.

    Args:
        requests: Chat completions admitted per model in any `window` seconds.
        tokens: Prompt and completion tokens admitted per model in any `window` seconds.
        window: The window's length in seconds; the API's is a minute. A shorter one
            scales a minute down for tests and benchmarks (``window=3.0``: "a minute
            is 3 s").
        retry_after: Also send ``Retry-After`` on a 429: whole seconds, rounded up,
            until the request would be admitted. The hosted API sends none, so this is
            off by default; it is for testing a client's handling of the header.
    """

    requests: int = REQUEST_LIMIT
    tokens: int = TOKEN_LIMIT
    window: float = WINDOW_SECONDS
    retry_after: bool = False

    def __attrs_post_init__(self) -> None:
        _positive_int("requests", self.requests)
        _positive_int("tokens", self.tokens)
        window = self.window
        if isinstance(window, bool) or not isinstance(window, (int, float)):
            raise TypeError(f"window must be a number of seconds, got {type(window).__name__}")
        if not (math.isfinite(window) and window > 0):
            raise ValueError(f"window must be a finite number of seconds > 0, got {window!r}")
        object.__setattr__(self, "window", float(window))


@attrs.frozen(kw_only=True)
class RateLimitStats:
    """What the fake server counted for one model's chat completions.

    Attributes:
        admitted: Chat completions let through (answered, or failed later on).
        rejected: Chat completions answered with a 429 by the enforced limit (not
            those answered by a queued `Fault.rate_limited`).
        tokens: Prompt and completion tokens of the admitted completions.
    """

    admitted: int = 0
    rejected: int = 0
    tokens: int = 0
