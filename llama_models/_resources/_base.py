"""What every resource holds: a way to send a request through its client."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._protocol import RequestSpec
from ..types.response import APIResponse

if TYPE_CHECKING:
    import cattrs

    from .._chat_stream import AsyncChatCompletionStream

T = TypeVar("T")


class Requester(Protocol):
    """The client's internal send method, as resources see it."""

    def _request(
        self, spec: RequestSpec, cls: type[T], options: Mapping[str, Any]
    ) -> Coroutine[Any, Any, APIResponse[T]]: ...

    async def _stream(
        self, spec: RequestSpec, options: Mapping[str, Any]
    ) -> AsyncChatCompletionStream: ...

    async def _codec(self) -> tuple[cattrs.Converter, Callable[[str], Any]]: ...
