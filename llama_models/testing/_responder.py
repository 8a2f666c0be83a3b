"""Answering a request no fault has answered: authenticate, route, hand to the endpoint."""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web

from ._faults import Fault
from ._limiter import RateLimiter
from ._models import ModelTable
from ._replies import ReplyQueue
from ._routes import JSON_CONTENT_TYPE, Call, Router, error_response
from ._stream import misplaced_fault_detail
from ._uploads import UploadStore

__all__ = ["Responder"]


class Responder:
    """What the server needs to answer a request normally: key, routes and shared state."""

    def __init__(
        self,
        api_key: bytes,
        router: Router,
        limits: RateLimiter,
        replies: ReplyQueue,
        uploads: UploadStore,
    ) -> None:
        self._api_key_bytes = api_key
        self._router = router
        self._limits = limits
        self._replies = replies
        self._uploads = uploads

    async def answer(
        self,
        request: web.Request,
        path: str,
        method: str,
        fault: Fault | None,
        released: asyncio.Event,
        extra: dict[str, str],
        table: ModelTable,
    ) -> web.StreamResponse:
        """Authenticate, route and handle a request that no fault has answered."""
        if not self._authorized(request.headers.get("Authorization")):
            return error_response(
                401,
                "Unauthorized",
                "Invalid API key",
                {"Content-Type": JSON_CONTENT_TYPE, **extra},
            )

        headers = self._rate_limit_headers()
        headers.update(extra)
        resolved = self._router.resolve(path)
        if resolved is None:
            return error_response(404, "Not found", f"Path {path} not found", headers)
        route, params = resolved
        handler = route.handlers.get(method)
        if handler is None:
            headers["Allow"] = ", ".join(route.handlers)
            return error_response(
                405, "Method not allowed", f"Method {method} not allowed on {path}", headers
            )
        if fault is not None and not route.streams:
            detail = misplaced_fault_detail(fault)
            return error_response(500, "Internal Server Error", detail, headers)
        call = Call(
            request,
            params,
            headers,
            table,
            replies=self._replies,
            limits=self._limits,
            released=released,
            stream_fault=fault,
            uploads=self._uploads,
        )
        return await handler(call)

    def _authorized(self, authorization: str | None) -> bool:
        if authorization is None:
            return False
        scheme, _, token = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._api_key_bytes
        )

    def _rate_limit_headers(self) -> dict[str, str]:
        return {"Content-Type": JSON_CONTENT_TYPE, **self._limits.common_headers()}
