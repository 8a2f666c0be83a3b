"""OpenTelemetry: one GenAI span and the GenAI metrics per call, read back from in-memory exporters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from llama_models import (
    APIStreamError,
    AsyncLlamaClient,
    BadRequestError,
    ClientStateError,
    LlamaClient,
    RequestAttempt,
    StreamInterruptedError,
)
from llama_models.otel import CAPTURE_CONTENT_ENV, Telemetry
from llama_models.otel._attributes import input_messages
from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


@attrs.define
class Observed:
    """The exporters of one test's providers, and a Telemetry writing to them."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def telemetry(self, **kwargs: Any) -> Telemetry:
        return Telemetry(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **kwargs
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def only_span(self) -> ReadableSpan:
        (span,) = self.finished()
        return span

    def points(self, name: str) -> list[HistogramDataPoint]:
        data = self.metrics.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)  # type: ignore[arg-type]
        return found


@pytest.fixture
def observed() -> Iterator[Observed]:
    """Providers of the test's own, with in-memory exporters; the global ones are left alone."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Observed(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
async def traced(server: FakeLlamaAPI, observed: Observed) -> AsyncIterator[AsyncLlamaClient]:
    """An async client with telemetry (content capture off) writing to `observed`."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, telemetry=observed.telemetry()
    ) as llama:
        yield llama


async def test_a_chat_call_is_one_client_span_with_the_genai_attributes(
    traced: AsyncLlamaClient, observed: Observed, server: FakeLlamaAPI
) -> None:
    """A chat completion makes one CLIENT span named 'chat {model}' with request and response attributes."""
    completion = await traced.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        max_completion_tokens=64,
    )
    span = observed.only_span()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "meta.llama",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.output.type": "text",
        "server.address": "127.0.0.1",
        "server.port": port,
        "gen_ai.response.id": completion.id,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": completion.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": completion.usage.completion_tokens,
        "llama_models.retries": 0,
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_the_metrics_follow_the_conventions(
    traced: AsyncLlamaClient, observed: Observed
) -> None:
    """Token usage is recorded per token type, and the duration in seconds, with the common attributes."""
    completion = await traced.chat.completions.create(model=MODEL, messages=HELLO)
    tokens = {
        (point.attributes or {})["gen_ai.token.type"]: point
        for point in observed.points("gen_ai.client.token.usage")
    }
    assert tokens["input"].sum == completion.usage.prompt_tokens
    assert tokens["output"].sum == completion.usage.completion_tokens
    (duration,) = observed.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert 0 < duration.sum < 10
    assert dict(duration.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "meta.llama",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": (tokens["input"].attributes or {})["server.port"],
    }


async def test_an_error_sets_error_type_and_the_error_status(
    traced: AsyncLlamaClient, observed: Observed, server: FakeLlamaAPI
) -> None:
    """A failed call ends its span with status ERROR and error.type, on the duration metric too."""
    server.enqueue(Fault.error(400, "no such parameter"))
    with pytest.raises(BadRequestError):
        await traced.chat.completions.create(model=MODEL, messages=HELLO)
    span = observed.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "BadRequestError"
    (duration,) = observed.points("gen_ai.client.operation.duration")
    assert duration.attributes is not None
    assert duration.attributes["error.type"] == "BadRequestError"
    assert observed.points("gen_ai.client.token.usage") == []


async def test_retries_are_events_on_the_one_span(
    traced: AsyncLlamaClient, observed: Observed, server: FakeLlamaAPI
) -> None:
    """Each retried attempt is a 'retry' event with its reason; the span counts the retries."""
    server.enqueue(Fault.rate_limited(retry_after_ms="1"), Fault.rate_limited(retry_after_ms="1"))
    await traced.chat.completions.create(model=MODEL, messages=HELLO)
    span = observed.only_span()
    assert span.attributes is not None
    assert span.attributes["llama_models.retries"] == 2
    events = [(event.name, dict(event.attributes or {})) for event in span.events]
    assert [name for name, _ in events] == ["retry", "retry"]
    assert events[1][1]["llama_models.attempt"] == 2
    assert events[0][1]["http.response.status_code"] == 429
    assert events[0][1]["error.type"] == "RateLimitError"
    assert events[0][1]["llama_models.retry.reason"]


async def test_a_stream_span_ends_with_the_stream_and_has_its_usage(
    traced: AsyncLlamaClient, observed: Observed
) -> None:
    """A stream's span is still open while it is read, and ends at its last event with the usage."""
    stream = await traced.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    assert observed.finished() == []
    async with stream:
        completion = await stream.final_completion()
    span = observed.only_span()
    assert span.attributes is not None
    assert span.attributes["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.status.status_code is StatusCode.UNSET
    assert len(observed.points("gen_ai.client.token.usage")) == 2


async def test_a_stream_closed_early_ends_its_span_without_an_error(
    traced: AsyncLlamaClient, observed: Observed, server: FakeLlamaAPI
) -> None:
    """Leaving a stream early ends its span, marked closed early, not as an error."""
    server.enqueue(Fault.stream_stall(after=1))  # the last event never comes
    stream = await traced.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    async for _chunk in stream:
        break
    await stream.aclose()
    span = observed.only_span()
    assert span.attributes is not None
    assert span.attributes["llama_models.stream.closed_early"] is True
    assert "gen_ai.usage.output_tokens" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.stream_error(after=1), APIStreamError),
        (Fault.stream_cut(after=1), StreamInterruptedError),
    ],
    ids=["server-error", "cut"],
)
async def test_a_failed_stream_ends_its_span_with_the_error(
    traced: AsyncLlamaClient,
    observed: Observed,
    server: FakeLlamaAPI,
    fault: Fault,
    error: type[Exception],
) -> None:
    """A stream that fails mid-way ends its span with status ERROR and the error's type."""
    server.enqueue(fault)
    stream = await traced.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    with pytest.raises(error):
        async with stream:
            await stream.final_completion()
    span = observed.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == error.__qualname__


async def test_closing_the_client_ends_an_open_stream_span_as_an_error(
    server: FakeLlamaAPI, observed: Observed
) -> None:
    """A stream left open when its client closes ends its span with ClientStateError."""
    llama = AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, telemetry=observed.telemetry()
    )
    stream = await llama.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    await llama.aclose()
    span = observed.only_span()
    assert span.attributes is not None
    assert span.attributes["error.type"] == ClientStateError.__qualname__
    with pytest.raises(ClientStateError):
        await stream.final_completion()


async def test_content_is_recorded_only_when_asked_for(
    server: FakeLlamaAPI, observed: Observed
) -> None:
    """Messages are span attributes only with capture_content=True, as the conventions' JSON."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, telemetry=observed.telemetry()
    ) as llama:
        await llama.chat.completions.create(model=MODEL, messages=HELLO)
    assert "gen_ai.input.messages" not in (observed.only_span().attributes or {})
    observed.spans.clear()
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        telemetry=observed.telemetry(capture_content=True),
    ) as llama:
        completion = await llama.chat.completions.create(model=MODEL, messages=HELLO)
    attributes = observed.only_span().attributes or {}
    assert json.loads(str(attributes["gen_ai.input.messages"])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]},
    ]
    assert json.loads(str(attributes["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": completion.text}],
            "finish_reason": "stop",
        }
    ]


async def test_tool_calls_and_results_are_recorded_as_parts(
    server: FakeLlamaAPI, observed: Observed
) -> None:
    """Captured content shows tool calls with their arguments and tool results with their ids."""
    server.enqueue_replies(ChatReply.tool_calls(("get_time", {"city": "Lyon"})))
    messages: list[Any] = [
        {"role": "user", "content": "time?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c0", "function": {"name": "get_time", "arguments": '{"city": "Paris"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "14:05"},
    ]
    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        telemetry=observed.telemetry(capture_content=True),
    ) as llama:
        await llama.chat.completions.create(model=MODEL, messages=messages)
    attributes = observed.only_span().attributes or {}
    sent = json.loads(str(attributes["gen_ai.input.messages"]))
    assert sent[1]["parts"][-1] == {
        "type": "tool_call",
        "id": "c0",
        "name": "get_time",
        "arguments": {"city": "Paris"},
    }
    assert sent[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c0", "response": "14:05"}],
    }
    (answer,) = json.loads(str(attributes["gen_ai.output.messages"]))
    assert answer["finish_reason"] == "tool_calls"
    assert answer["parts"][-1]["arguments"] == {"city": "Lyon"}


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("TRUE", True), ("1", False)])
def test_content_capture_defaults_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, observed: Observed, value: str, expected: bool
) -> None:
    """Without capture_content, the GenAI instrumentations' variable decides, 'true' meaning on."""
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, value)
    assert observed.telemetry().capture_content is expected
    assert observed.telemetry(capture_content=False).capture_content is False


async def test_parse_and_run_tools_are_traced_as_chat_calls(
    traced: AsyncLlamaClient, observed: Observed, server: FakeLlamaAPI
) -> None:
    """parse and each request of run_tools make chat spans, with JSON output type for parse."""

    @attrs.frozen
    class Greeting:
        text: str

    def shout(word: str) -> str:
        """Shout a word."""
        return word.upper()

    server.enqueue_replies(
        ChatReply.json({"text": "hi"}),
        ChatReply.tool_calls(("shout", {"word": "hi"})),
        ChatReply.text("HI"),
    )
    await traced.chat.completions.parse(model=MODEL, messages=HELLO, response_format=Greeting)
    await traced.chat.completions.run_tools(model=MODEL, messages=HELLO, tools=[shout]).until_done()
    spans = observed.finished()
    assert [span.name for span in spans] == [f"chat {MODEL}"] * 3
    assert [(span.attributes or {})["gen_ai.output.type"] for span in spans] == [
        "json",
        "text",
        "text",
    ]


async def test_other_endpoints_have_operation_names_of_their_own(
    traced: AsyncLlamaClient, observed: Observed
) -> None:
    """Models and moderations calls have operation names of ours; the retrieved id is the model."""
    await traced.models.list()
    await traced.models.retrieve(MODEL)
    await traced.moderations.create(messages=HELLO[1:])
    await traced.moderations.create(messages=HELLO[1:], model="Llama-Guard-4-12B")
    assert [span.name for span in observed.finished()] == [
        "list_models",
        f"retrieve_model {MODEL}",
        "moderation",
        "moderation Llama-Guard-4-12B",
    ]


async def test_the_call_span_is_the_parent_of_spans_made_during_it(
    server: FakeLlamaAPI, observed: Observed
) -> None:
    """Spans made in hooks are children of the call's span, which is a child of the caller's."""
    tracer = observed.tracer_provider.get_tracer("test")

    def hook(record: RequestAttempt) -> None:
        tracer.start_span("in hook").end()

    async with AsyncLlamaClient(
        api_key=server.api_key,
        base_url=server.base_url,
        hooks=[hook],
        telemetry=observed.telemetry(),
    ) as llama:
        with tracer.start_as_current_span("caller"):
            await llama.models.list()
    by_name = {span.name: span for span in observed.finished()}
    call = by_name["list_models"]
    assert call.parent is not None
    assert call.parent.span_id == by_name["caller"].context.span_id
    assert by_name["in hook"].parent is not None
    assert by_name["in hook"].parent.span_id == call.context.span_id


def test_the_blocking_client_is_traced_under_the_callers_span(
    threaded_server: FakeLlamaAPI, observed: Observed
) -> None:
    """The blocking client's spans (streams included) are children of the calling thread's span."""
    tracer = observed.tracer_provider.get_tracer("test")
    with (
        LlamaClient(
            api_key=threaded_server.api_key,
            base_url=threaded_server.base_url,
            telemetry=observed.telemetry(),
        ) as llama,
        tracer.start_as_current_span("caller") as caller,
    ):
        llama.chat.completions.create(model=MODEL, messages=HELLO)
        with llama.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as stream:
            text = "".join(stream.text_deltas())
    assert text
    chats = [span for span in observed.finished() if span.name.startswith("chat")]
    assert len(chats) == 2
    for span in chats:
        assert span.parent is not None
        assert span.parent.span_id == caller.get_span_context().span_id
        assert (span.attributes or {})["gen_ai.usage.output_tokens"]


def test_no_global_provider_is_set(observed: Observed) -> None:
    """Making a Telemetry with explicit providers leaves the global tracer provider alone."""
    before = trace.get_tracer_provider()
    observed.telemetry()
    assert trace.get_tracer_provider() is before


def test_images_are_recorded_by_url_or_by_type_only() -> None:
    """An image URL is a uri part; an inline image a blob part with its MIME type, never its bytes."""
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "audio"},
                ],
            }
        ]
    }
    recorded = input_messages(body)
    assert recorded is not None
    assert "AAAA" not in recorded
    assert json.loads(recorded)[0]["parts"] == [
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
        {"type": "blob", "modality": "image", "mime_type": "image/png"},
        {"type": "audio"},
    ]
    assert input_messages(None) is None


def test_telemetry_repr_shows_only_the_capture_flag(observed: Observed) -> None:
    """A Telemetry's repr says whether it captures content, and nothing about its providers."""
    assert repr(observed.telemetry(capture_content=False)) == "Telemetry(capture_content=False)"
