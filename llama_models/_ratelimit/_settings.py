"""`RateLimit`: the budget a client keeps to, as the user states it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from attrs import Attribute, field, frozen

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._store import RateLimitStore

__all__ = ["RateLimit"]


def _check_count(_instance: object, attribute: Attribute[int | None], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            f"{attribute.name} must be a whole number >= 1 or None, not {value!r}"
        )


def _check_window(_instance: object, _attribute: object, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidArgumentError(f"window must be a finite number of seconds > 0, not {value!r}")


@frozen(kw_only=True)
class RateLimit:
    """A requests-per-minute and tokens-per-minute budget for a client's calls.

    Give it to a client as ``rate_limit=``. Chat completions and moderations
    then wait for room in the budget instead of running into HTTP 429, and one
    429 pauses every call of that model at once, so that 200 tasks hitting a
    limit cost a handful of 429s, not hundreds. The Llama API's limits are per
    team and per model, so the budget is kept per model too.

    A wait counts against the call's ``timeout``. When a call cannot fit in
    what is left of it, it fails at once with `RateLimitBudgetError`, sending
    nothing.

    Every client given the same ``RateLimit`` shares one budget. To share it
    between processes and machines, give it a shared *store*
    (`llama_models.redis.RedisRateLimitStore`).

    Args:
        requests_per_minute: requests allowed per *window*; ``None`` for no
            limit of your own.
        tokens_per_minute: tokens (prompt and completion) allowed per
            *window*; ``None`` for no limit of your own. A request counts as its
            estimate (about four characters a token, plus its
            ``max_completion_tokens``, or 1,024 when it sets none) until its
            answer reports the real count.
        adaptive: also follow the ``x-ratelimit-*`` headers of the answers: the
            limits they announce apply where they are lower than yours (or
            where you set none), and the remaining counts they report are
            never exceeded. Until the first answer has told a model's limits,
            its calls go one at a time.
        window: the length in seconds of the window the limits count over.
            The Llama API's is a minute; a shorter one is for tests and
            benchmarks against the fake server.
        store: where the budget is kept; by default in this process, shared
            by the clients given this ``RateLimit``.
    """

    requests_per_minute: int | None = field(default=None, validator=_check_count)
    tokens_per_minute: int | None = field(default=None, validator=_check_count)
    adaptive: bool = True
    window: float = field(default=60.0, validator=_check_window)
    store: RateLimitStore = field(factory=lambda: _local_store(), eq=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.adaptive, bool):
            raise InvalidArgumentError(f"adaptive must be a bool, not {self.adaptive!r}")
        from ._store import RateLimitStore

        if not isinstance(self.store, RateLimitStore):
            raise InvalidArgumentError(
                "store must be a RateLimitStore (LocalRateLimitStore or "
                f"llama_models.redis.RedisRateLimitStore), not {type(self.store).__name__}"
            )


def _local_store() -> RateLimitStore:
    from ._store import LocalRateLimitStore

    return LocalRateLimitStore()
