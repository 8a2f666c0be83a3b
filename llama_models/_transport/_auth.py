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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._config import RedactedStr, Secret
from .._redirects import origin

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.client_middlewares import ClientHandlerType

__all__ = ["BearerAuth", "bearer"]


def bearer(api_key: Secret) -> RedactedStr:
    """The ``Authorization`` header value for *api_key*."""
    return RedactedStr(f"Bearer {api_key.reveal()}")


class BearerAuth:
    """An aiohttp client middleware adding ``Authorization`` to requests for *base_url*'s origin."""

    __slots__ = ("_host", "_port", "_scheme", "_value")

    def __init__(self, api_key: Secret, base_url: str) -> None:
        self._scheme, self._host, self._port = origin(base_url)
        self._value = bearer(api_key)

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        url = request.url
        if url.host == self._host and url.port == self._port and url.scheme == self._scheme:
            request.headers["Authorization"] = self._value
        return await handler(request)
