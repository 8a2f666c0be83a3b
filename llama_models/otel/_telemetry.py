"""`Telemetry`: one span and two metrics per call, following the OpenTelemetry GenAI conventions."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._hooks import RequestAttempt
from .._instrument import Instrumentation, OpenStream
from .._protocol import RequestSpec
from ..types.chat import ChatCompletion
from ..types.response import APIResponse
from ._attributes import (
    input_messages,
    operation,
    output_messages,
    request_attributes,
    response_attributes,
)

if TYPE_CHECKING:
    from .._chat_stream import AsyncChatCompletionStream

T = TypeVar("T")

__all__ = ["CAPTURE_CONTENT_ENV", "Telemetry"]

#: The environment variable the GenAI instrumentations read for content capture.
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# The bucket boundaries the conventions advise for the two histograms.
_TOKEN_BUCKETS = [4.0**power for power in range(14)]
_DURATION_BUCKETS = [0.01 * 2.0**power for power in range(14)]
# The span attributes the metrics carry too.
_METRIC_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "server.address",
    "server.port",
)

#: The call whose attempts the transport is reporting, in this task.
_CURRENT: ContextVar[Call | None] = ContextVar("llama_models_otel_call", default=None)


class Telemetry(Instrumentation):
    """Traces every call of a client and records its metrics with OpenTelemetry.

    Pass one to a client, ``AsyncLlamaClient(telemetry=Telemetry())`` or
    ``LlamaClient(telemetry=Telemetry())``. Each call gets a span of kind
    CLIENT named ``"{gen_ai.operation.name} {gen_ai.request.model}"``, such as
    ``"chat Llama-3.3-70B-Instruct"``, with the GenAI attributes; a stream's
    span ends when the stream does. Each call records the
    ``gen_ai.client.operation.duration`` histogram, and, when the answer has
    token counts, ``gen_ai.client.token.usage``. Retries are ``retry`` events
    on the span, counted in its ``llama_models.retries`` attribute.

    Args:
        tracer_provider: where spans go; the global one
            (``opentelemetry.trace.get_tracer_provider()``) when ``None``.
        meter_provider: where metrics go; the global one when ``None``.
        capture_content: record the messages sent and received
            (``gen_ai.input.messages`` and ``gen_ai.output.messages``). When
            ``None``, true if the ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``
            environment variable is ``true``. Off by default: messages may hold
            personal data.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        capture_content: bool | None = None,
    ) -> None:
        from .. import __version__

        if capture_content is None:
            capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"
        self.capture_content = bool(capture_content)
        """Whether message content is recorded."""
        self._tracer = trace.get_tracer("llama_models", __version__, tracer_provider)
        meter = metrics.get_meter("llama_models", __version__, meter_provider)
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )

    def __repr__(self) -> str:
        return f"Telemetry(capture_content={self.capture_content!r})"

    def _attempt_hook(self, record: RequestAttempt) -> None:
        """Add a ``retry`` event to the call's span for each attempt that is retried."""
        call = _CURRENT.get()
        if call is not None and record.will_retry:
            call.retried(record)

    async def _request(
        self, spec: RequestSpec, base_url: str, send: Callable[[], Awaitable[APIResponse[T]]]
    ) -> APIResponse[T]:
        """Send the call under its span."""
        call = Call(self, spec, base_url)
        with call.current():
            response = await send()
        call.finish(response.data)
        return response

    async def _stream(
        self, spec: RequestSpec, base_url: str, open_stream: OpenStream
    ) -> AsyncChatCompletionStream:
        """Open the stream under its span, which the stream ends when it ends."""
        from ._stream import TracedStream

        call = Call(self, spec, base_url)
        with call.current():
            stream = await open_stream(TracedStream)
        assert isinstance(stream, TracedStream)
        stream._traced_by(call)
        return stream


class Call:
    """The span and measurements of one call, from its start to its end."""

    __slots__ = ("_attributes", "_capture", "_ended", "_started", "_telemetry", "retries", "span")

    def __init__(self, telemetry: Telemetry, spec: RequestSpec, base_url: str) -> None:
        name, model = operation(spec)
        attributes = request_attributes(spec, base_url, name, model)
        self._telemetry = telemetry
        self._capture = telemetry.capture_content
        self._attributes = {key: attributes[key] for key in _METRIC_KEYS if key in attributes}
        self.span = span = telemetry._tracer.start_span(
            f"{name} {model}" if model else name, kind=SpanKind.CLIENT, attributes=attributes
        )
        if self._capture and span.is_recording():
            messages = input_messages(spec.json)
            if messages is not None:
                span.set_attribute("gen_ai.input.messages", messages)
        self.retries = 0
        self._ended = False
        self._started = time.perf_counter()

    def current(self) -> _Current:
        """A context manager making this the current span and call, and failing it on error."""
        return _Current(self)

    def retried(self, record: RequestAttempt) -> None:
        """An attempt failed and is retried."""
        self.retries += 1
        event: dict[str, Any] = {"llama_models.attempt": record.attempt}
        if record.status is not None:
            event["http.response.status_code"] = record.status
        if record.error is not None:
            event["error.type"] = type(record.error).__qualname__
            event["llama_models.retry.reason"] = record.error.message
        self.span.add_event("retry", event)

    def finish(self, data: object) -> None:
        """The call succeeded with *data*."""
        if self._ended:
            return
        span = self.span
        usage: Mapping[str, Any] = {}
        if isinstance(data, ChatCompletion):
            usage = response_attributes(data)
            span.set_attributes(usage)
            if self._capture and span.is_recording():
                span.set_attribute("gen_ai.output.messages", output_messages(data))
            model = usage.get("gen_ai.response.model")
            if model is not None:
                self._attributes["gen_ai.response.model"] = model
        self._end()
        tokens = self._telemetry._tokens
        for key, kind in (
            ("gen_ai.usage.input_tokens", "input"),
            ("gen_ai.usage.output_tokens", "output"),
        ):
            if key in usage:
                tokens.record(usage[key], {**self._attributes, "gen_ai.token.type": kind})

    def closed_early(self) -> None:
        """A stream was closed before its end; not an error."""
        if not self._ended:
            self.span.set_attribute("llama_models.stream.closed_early", True)
            self._end()

    def fail(self, exc: BaseException) -> None:
        """The call failed with *exc* (or was cancelled)."""
        if self._ended:
            return
        error_type = type(exc).__qualname__
        self._attributes["error.type"] = error_type
        self.span.set_attribute("error.type", error_type)
        self.span.set_status(Status(StatusCode.ERROR, getattr(exc, "message", None) or error_type))
        self._end()

    def _end(self) -> None:
        self._ended = True
        elapsed = time.perf_counter() - self._started
        self.span.set_attribute("llama_models.retries", self.retries)
        self.span.end()
        self._telemetry._duration.record(elapsed, self._attributes)


class _Current:
    """Makes a call current (for the transport's attempts and any nested span) while it is sent."""

    __slots__ = ("_call", "_tokens")

    def __init__(self, call: Call) -> None:
        self._call = call

    def __enter__(self) -> None:
        call = self._call
        self._tokens = (
            _CURRENT.set(call),
            otel_context.attach(trace.set_span_in_context(call.span)),
        )

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        current, attached = self._tokens
        otel_context.detach(attached)
        _CURRENT.reset(current)
        if exc is not None:
            self._call.fail(exc)
