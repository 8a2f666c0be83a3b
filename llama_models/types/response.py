"""What came with a response besides its data: status, headers, rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar

from attrs import frozen

__all__ = ["APIResponse", "RateLimitInfo"]

T = TypeVar("T")


@frozen(kw_only=True)
class RateLimitInfo:
    """The ``x-ratelimit-*`` headers of a response, parsed.

    A header the server did not send, or sent in a form that is not a whole
    number, is ``None``.

    Attributes:
        limit_requests: requests allowed per window.
        remaining_requests: requests left in the current window.
        limit_tokens: tokens allowed per window.
        remaining_tokens: tokens left in the current window.
    """

    limit_requests: int | None = None
    remaining_requests: int | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None


@frozen(kw_only=True)
class APIResponse(Generic[T]):
    """A parsed result together with the HTTP response it came from.

    Every method is reachable through the resource's ``with_response``
    namespace, which returns this instead of the bare result::

        response = await client.models.with_response.list()
        response.data             # the ModelList
        response.rate_limit       # RateLimitInfo(...) or None

    Attributes:
        data: the parsed result, as the plain method returns it.
        status_code: the HTTP status of the final response.
        headers: the final response's headers (case-insensitive).
        retries: how many times the request was retried before this answer.
        content: the body exactly as the server sent it (decompressed).
        url: the final URL, after any redirect, with its query string.
        elapsed: the time the whole call took, retries and waits included.
    """

    data: T
    status_code: int
    headers: Mapping[str, str]
    retries: int = 0
    content: bytes = b""
    url: str = ""
    elapsed: timedelta = timedelta(0)

    @property
    def text(self) -> str:
        """The body decoded as text, in the charset its ``Content-Type`` names (UTF-8 if none)."""
        charset = "utf-8"
        for param in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON, as plain dicts and lists (by ``json.loads``)."""
        import json

        return json.loads(self.content)

    @property
    def request_id(self) -> str | None:
        """The server's request id (``x-request-id`` or ``request-id``), when it sent one."""
        from .._protocol import find_request_id

        return find_request_id(self.headers)

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The parsed ``x-ratelimit-*`` headers, or ``None`` when the server sent none."""
        from .._protocol import parse_rate_limit

        return parse_rate_limit(self.headers)
