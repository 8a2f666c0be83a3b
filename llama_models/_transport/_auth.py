"""The API key goes on inside aiohttp, as a client middleware of the session we own.

Whatever is handed to ``ClientSession.request`` is seen by code that wraps it:
vcrpy records those headers into its cassettes, and could not write the
`RedactedStr` the key travels in (it is not a plain ``str``). A middleware adds
the header after that point, so a cassette never holds the key, and inside
aiohttp the value is still a `RedactedStr`, which shows as ``'<redacted>'`` in
any repr (a traceback's locals included). Only requests to the API's own origin
get it: a redirect elsewhere goes without.

A session the caller passed in may have middlewares of its own, which a
per-request middleware would replace; requests through it carry the key in
their headers instead (see `Transport`).

The price: aiohttp's middleware machinery costs about 15,000 instructions a
request (callgrind, aiohttp 3.14), some 3 % of the client's CPU time per call,
whatever the middleware does. The alternatives were worse: a session's own
``auth=`` is deprecated, and a plain ``str`` in the headers would put the key
in every traceback through aiohttp that prints its frames' locals.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from yarl import URL

from .._config import RedactedStr, Secret

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.client_middlewares import ClientHandlerType

__all__ = ["BearerAuth", "bearer"]


def bearer(api_key: Secret) -> RedactedStr:
    """The ``Authorization`` header value for *api_key*."""
    return RedactedStr(f"Bearer {api_key.reveal()}")


class BearerAuth:
    """An aiohttp client middleware adding ``Authorization`` to requests for *base_url*'s origin."""

    __slots__ = ("_origin", "_value")

    def __init__(self, api_key: Secret, base_url: str) -> None:
        url = URL(base_url)
        self._origin = (url.raw_host, url.port, url.scheme)
        self._value = bearer(api_key)

    def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> Awaitable[aiohttp.ClientResponse]:
        # A plain function handing back the handler's coroutine, not a coroutine of its
        # own: every frame in the chain is re-entered each time the request resumes.
        # raw_host: the host as it is sent (an IDN host in punycode), with no decoding.
        url = request.url
        if (url.raw_host, url.port, url.scheme) == self._origin:
            request.headers["Authorization"] = self._value
        return handler(request)
