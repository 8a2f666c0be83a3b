"""The response of a stream, as seen through a stream that wraps another.

The blocking stream wraps the async one, and the parsed streams wrap a plain one; each
shows the wrapped stream's response as its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types.response import RateLimitInfo

__all__ = ["WrappedResponse"]


class WrappedResponse:
    """Properties of the HTTP response, read from the wrapped stream, ``_inner``."""

    _inner: Any

    @property
    def status_code(self) -> int:
        """The HTTP status of the response (200)."""
        return self._inner.status_code  # type: ignore[no-any-return]

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive)."""
        return self._inner.headers  # type: ignore[no-any-return]

    @property
    def request_id(self) -> str | None:
        """The server's request id, when it sent one."""
        return self._inner.request_id  # type: ignore[no-any-return]

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The parsed ``x-ratelimit-*`` headers, or ``None`` when there were none."""
        return self._inner.rate_limit  # type: ignore[no-any-return]

    @property
    def retries(self) -> int:
        """How many times the request was retried before the stream started."""
        return self._inner.retries  # type: ignore[no-any-return]
