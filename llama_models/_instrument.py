"""What a client calls around its requests when it has telemetry, without importing it.

`Instrumentation` is the base of `llama_models.otel.Telemetry`: the client
checks an instance against it and calls its methods, so ``import
llama_models`` never imports opentelemetry. `observe` folds the request hooks
(and the telemetry's own hook, which counts retries) into the client's settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._hooks import RequestAttempt, RequestHook, validate_hooks
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._chat_stream import AsyncChatCompletionStream
    from ._config import ClientConfig
    from ._protocol import RequestSpec
    from .types.response import APIResponse

T = TypeVar("T")

#: Opens a stream as the given class (a subclass of AsyncChatCompletionStream), or the plain one.
OpenStream = Callable[
    ["type[AsyncChatCompletionStream] | None"], Awaitable["AsyncChatCompletionStream"]
]

__all__ = ["Instrumentation", "OpenStream", "observe"]


class Instrumentation:
    """The base of `llama_models.otel.Telemetry`: what a client calls around each call."""

    def _attempt_hook(self, record: RequestAttempt) -> None:
        """Called with every attempt of every call, like a request hook."""
        raise NotImplementedError

    def _request(
        self, spec: RequestSpec, base_url: str, send: Callable[[], Awaitable[APIResponse[T]]]
    ) -> Coroutine[Any, Any, APIResponse[T]]:
        """Run *send* (the call for *spec*) under observation."""
        raise NotImplementedError

    def _stream(
        self, spec: RequestSpec, base_url: str, open_stream: OpenStream
    ) -> Coroutine[Any, Any, AsyncChatCompletionStream]:
        """Open a stream with *open_stream* and observe it until it ends."""
        raise NotImplementedError


def observe(
    config: ClientConfig,
    hooks: Iterable[RequestHook] | None,
    hook_bodies: bool,
    telemetry: object,
) -> tuple[ClientConfig, Instrumentation | None]:
    """The settings with the hooks in them, and the checked *telemetry*."""
    if telemetry is not None and not isinstance(telemetry, Instrumentation):
        raise InvalidArgumentError(
            f"telemetry must be a llama_models.otel.Telemetry, not {type(telemetry).__name__}"
        )
    checked = validate_hooks(hooks)
    if telemetry is not None:
        checked = (*checked, telemetry._attempt_hook)
    if not checked and not hook_bodies:
        return config, telemetry
    return attrs.evolve(config, hooks=checked, hook_bodies=bool(hook_bodies)), telemetry
