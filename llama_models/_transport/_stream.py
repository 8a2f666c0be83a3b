"""An open streaming response: the one place a stream's bytes come out of aiohttp."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp

__all__ = ["LiveBody", "StreamReadFailed"]


class StreamReadFailed(Exception):
    """Reading an open stream failed; the stream turns this into a public error.

    Attributes:
        reason: what happened, for the message.
        timeout: whether it was aiohttp's ``read_timeout``.
    """

    def __init__(self, reason: str, *, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


class LiveBody:
    """A 2xx response whose body is still arriving.

    The owner reads it with `read` until it returns ``b""``, then calls
    `release`; or calls `close` to drop the connection at any time. Either
    gives the stream's place in the transport's pool queue (*holders*) back.
    """

    __slots__ = ("_holders", "_key", "_read", "_resp", "headers", "method", "status", "url")

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        method: str,
        url: str,
        holders: dict[int, None],
        key: int,
    ) -> None:
        self._resp = resp
        self._read = resp.content.readany
        self._holders = holders
        self._key = key
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self.method = method
        self.url = url

    async def read(self) -> bytes:
        """The bytes that have arrived (waiting for some); ``b""`` at the end."""
        try:
            return await self._read()
        except aiohttp.SocketTimeoutError as exc:
            raise StreamReadFailed(
                "the server sent nothing within read_timeout", timeout=True
            ) from exc
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            text = str(exc)
            reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            raise StreamReadFailed(f"the connection failed ({reason})") from exc

    def release(self) -> None:
        """The body was read to its end: give the connection back to the pool."""
        self._holders.pop(self._key, None)
        self._resp.release()

    def close(self) -> None:
        """Drop the connection (an unread body makes it unusable for another request)."""
        self._holders.pop(self._key, None)
        self._resp.close()
