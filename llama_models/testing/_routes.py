"""Endpoints of the fake server and the small router that finds them on the raw path.

Routing works on the path exactly as received, not on aiohttp's decoded path: a model id
such as ``org/model-x`` arrives as ``/v1/models/org%2Fmodel-x`` and must stay one path
segment. Each ``{name}`` placeholder matches one raw segment, and only then is it
percent-decoded. Adding an endpoint means writing one handler and one `Route` line.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs
from aiohttp import web

from ._chat import create_chat_completion
from ._models import ModelTable
from ._moderations import create_moderation
from ._uploads import UploadStore, create_upload, get_upload, upload_part

if TYPE_CHECKING:
    import asyncio

    from ._faults import Fault
    from ._limiter import RateLimiter
    from ._replies import ReplyQueue

__all__ = ["ROUTES", "Call", "Route", "Router", "error_body", "error_response"]

JSON_CONTENT_TYPE = "application/json"


@attrs.frozen
class Call:
    """One authenticated request routed to a handler, with what the handler may use.

    Endpoints that need more of the server's state get it through new fields here, so
    handlers never reach into `FakeLlamaAPI` itself.
    """

    request: web.Request
    #: Percent-decoded values of the route's ``{name}`` placeholders.
    params: Mapping[str, str]
    #: Headers every answer carries: JSON content type, rate limits, maybe a request id.
    headers: Mapping[str, str]
    #: The catalogue as it was when the request arrived.
    models: ModelTable
    #: Scripted chat replies, taken first in, first out.
    replies: ReplyQueue = attrs.field(kw_only=True)
    #: Rate limits: they count each chat completion and may refuse it.
    limits: RateLimiter = attrs.field(kw_only=True)
    #: Set when the server stops; long waits in a handler end on it.
    released: asyncio.Event = attrs.field(kw_only=True)
    #: A stream fault the request drew, for a streaming handler to carry out.
    stream_fault: Fault | None = attrs.field(default=None, kw_only=True)
    #: Upload sessions and finished files.
    uploads: UploadStore = attrs.field(kw_only=True)

    def json(self, body: bytes, status: int = 200) -> web.Response:
        """Answer with already-serialized JSON `body`."""
        return web.Response(body=body, status=status, headers=self.headers)

    def error(self, status: int, title: str, detail: str) -> web.Response:
        """Answer with the illustrative error body."""
        return self.json(error_body(status, title, detail), status)


Handler = Callable[[Call], Awaitable[web.StreamResponse]]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@attrs.frozen
class Route:
    """A path template such as ``/v1/models/{model}`` and its handler per HTTP method."""

    template: str
    handlers: Mapping[str, Handler]
    #: Whether the handler can carry out stream faults (others answer them with a 500).
    streams: bool = False
    pattern: re.Pattern[str] = attrs.field(init=False)

    @pattern.default
    def _compile(self) -> re.Pattern[str]:
        parts: list[str] = []
        for segment in self.template.split("/"):
            placeholder = _PLACEHOLDER.fullmatch(segment)
            if placeholder is None:
                parts.append(re.escape(segment))
            else:
                parts.append(f"(?P<{placeholder.group(1)}>[^/]+)")
        return re.compile("/".join(parts))

    @property
    def is_static(self) -> bool:
        """Whether the template has no placeholders."""
        return self.pattern.groupindex == {}


class Router:
    """Finds the route for a raw path: static paths by dict lookup, the rest by regex."""

    __slots__ = ("_dynamic", "_static")

    def __init__(self, routes: Iterable[Route]) -> None:
        self._static: dict[str, Route] = {}
        self._dynamic: list[Route] = []
        for route in routes:
            if route.is_static:
                self._static[route.template] = route
            else:
                self._dynamic.append(route)

    def resolve(self, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        """Return the matching route and its decoded parameters, or ``None``."""
        route = self._static.get(raw_path)
        if route is not None:
            return route, {}
        for route in self._dynamic:
            match = route.pattern.fullmatch(raw_path)
            if match is not None:
                params = {
                    name: urllib.parse.unquote(value) for name, value in match.groupdict().items()
                }
                return route, params
        return None


def error_body(status: int, title: str, detail: str) -> bytes:
    """Serialize the illustrative error body ``{"title", "detail", "status"}``."""
    return json.dumps({"title": title, "detail": detail, "status": status}).encode()


def error_response(
    status: int, title: str, detail: str, headers: Mapping[str, str]
) -> web.Response:
    """Answer with the illustrative error body and `headers`."""
    return web.Response(body=error_body(status, title, detail), status=status, headers=headers)


async def list_models(call: Call) -> web.StreamResponse:
    """``GET /v1/models``: the whole catalogue in a list wrapper."""
    return call.json(call.models.list_body)


async def retrieve_model(call: Call) -> web.StreamResponse:
    """``GET /v1/models/{model}``: one model, or 404."""
    model_id = call.params["model"]
    body = call.models.by_id.get(model_id)
    if body is None:
        return call.error(404, "Not found", f"Model {model_id} not found")
    return call.json(body)


ROUTES: tuple[Route, ...] = (
    Route("/v1/models", {"GET": list_models}),
    Route("/v1/models/{model}", {"GET": retrieve_model}),
    Route("/v1/chat/completions", {"POST": create_chat_completion}, streams=True),
    Route("/v1/moderations", {"POST": create_moderation}),
    Route("/v1/uploads", {"POST": create_upload}),
    Route("/v1/uploads/{upload_id}", {"GET": get_upload, "POST": upload_part}),
)
