"""The Chat Completions API: ``POST /chat/completions``, plain and streamed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .._options import BodyOptions, StreamOptions, Unpack, adopt_extra_body
from .._protocol import RequestSpec
from ..errors import InvalidArgumentError
from ..types.chat import ChatCompletion, ParsedChatCompletion
from ..types.messages import JsonSchemaFormat, Tool, ToolChoiceMode
from ..types.messages import MessageParam as MessageParam  # re-exported for _sync.chat
from ..types.response import APIResponse
from ._base import Requester

if TYPE_CHECKING:
    from .._chat_stream import AsyncChatCompletionStream
    from .._parsed_streams import AsyncParsedChatCompletionStream
    from .._tool_runner import AsyncToolRunner
    from .._tools import Approve, FunctionTool

T = TypeVar("T")

__all__ = ["AsyncChat", "AsyncCompletions", "AsyncCompletionsWithResponse"]

ToolParam = Tool | Mapping[str, Any]
ToolChoice = ToolChoiceMode | Tool | Mapping[str, Any]
ResponseFormat = JsonSchemaFormat | Mapping[str, Any]


def _spec(**fields: Any) -> RequestSpec:
    from .._chat_request import chat_body  # loaded with the first request, not at import

    return RequestSpec("POST", "chat/completions", chat_body(**adopt_extra_body(fields)))


def _stream_only(options: Mapping[str, Any]) -> None:
    for name in ("idle_timeout", "stream_timeout"):
        if options.get(name) is not None:
            raise InvalidArgumentError(
                f"{name} applies to streams only; pass stream=True or drop it"
            )


class AsyncCompletionsWithResponse:
    """The `AsyncCompletions` methods, returning the result with its HTTP response."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_completion_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        response_format: ResponseFormat | None = None,
        tools: Iterable[ToolParam] | None = None,
        tool_choice: ToolChoice | None = None,
        user: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> APIResponse[ChatCompletion]:
        """Create a chat completion, with the HTTP status, headers, raw body and rate limits.

        The arguments are those of `AsyncCompletions.create` without streaming.
        """
        spec = _spec(
            model=model,
            messages=messages,
            max_completion_tokens=max_completion_tokens,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            repetition_penalty=repetition_penalty,
            response_format=response_format,
            tools=tools,
            tool_choice=tool_choice,
            user=user,
            stream=False,
            extra_body=options.get("extra_body"),
        )
        _stream_only(options)
        return await self._client._request(spec, ChatCompletion, options)


class AsyncCompletions:
    """Chat completions: ``client.chat.completions``.

    Attributes:
        with_response: `create` returning an `APIResponse` that carries the
            status code, headers, request id and rate-limit information.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.with_response = AsyncCompletionsWithResponse(client)

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_completion_tokens: int | None = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        top_k: int | None = ...,
        repetition_penalty: float | None = ...,
        response_format: ResponseFormat | None = ...,
        tools: Iterable[ToolParam] | None = ...,
        tool_choice: ToolChoice | None = ...,
        user: str | None = ...,
        stream: Literal[False] = ...,
        **options: Unpack[BodyOptions],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_completion_tokens: int | None = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        top_k: int | None = ...,
        repetition_penalty: float | None = ...,
        response_format: ResponseFormat | None = ...,
        tools: Iterable[ToolParam] | None = ...,
        tool_choice: ToolChoice | None = ...,
        user: str | None = ...,
        stream: Literal[True],
        **options: Unpack[StreamOptions],
    ) -> AsyncChatCompletionStream: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_completion_tokens: int | None = ...,
        temperature: float | None = ...,
        top_p: float | None = ...,
        top_k: int | None = ...,
        repetition_penalty: float | None = ...,
        response_format: ResponseFormat | None = ...,
        tools: Iterable[ToolParam] | None = ...,
        tool_choice: ToolChoice | None = ...,
        user: str | None = ...,
        stream: bool,
        **options: Unpack[StreamOptions],
    ) -> ChatCompletion | AsyncChatCompletionStream: ...

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_completion_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        response_format: ResponseFormat | None = None,
        tools: Iterable[ToolParam] | None = None,
        tool_choice: ToolChoice | None = None,
        user: str | None = None,
        stream: bool = False,
        **options: Unpack[StreamOptions],
    ) -> ChatCompletion | AsyncChatCompletionStream:
        """Create a chat completion, or stream one with ``stream=True``.

        Arguments left as ``None`` are not sent, so the API's defaults apply.
        Everything is checked before the request is sent: a malformed message
        or an out-of-range number raises `InvalidArgumentError` naming it.

        Args:
            model: the model id, such as ``"Llama-4-Maverick-17B-128E-Instruct-FP8"``.
            messages: the conversation: `UserMessage`, `SystemMessage`,
                `AssistantMessage` (a previous answer's ``completion_message``
                fits) and `ToolMessage` objects, or dicts in the API's shape
                such as ``{"role": "user", "content": "Hello"}``.
            max_completion_tokens: the most tokens to generate (at least 1).
            temperature: randomness, 0 to 1.
            top_p: nucleus sampling threshold, 0 to 1.
            top_k: sample from the k likeliest tokens (0 or more).
            repetition_penalty: 1 (none) to 2.
            response_format: a `JsonSchemaFormat` (or its dict) to get JSON
                that follows a schema; read it with `ChatCompletion.parse_json`.
            tools: `Tool` objects (or dicts) the model may call.
            tool_choice: ``"none"``, ``"auto"``, ``"required"``, or a `Tool`
                (or ``{"type": "function", "function": {"name": ...}}``) to force it.
            user: an id for the end user, for abuse monitoring (hash it).
            stream: return an `AsyncChatCompletionStream` of chunks instead
                of waiting for the whole completion.
            **options: the per-call options (see `StreamOptions`): ``timeout``
                (for a stream: until its response starts; ``None`` for no
                overall limit), ``max_retries``, ``extra_headers``,
                ``extra_query``, ``extra_body`` (fields for API features newer
                than this SDK: a field an argument sets is refused, one an
                argument could set is checked as that argument), and for
                streams only ``idle_timeout`` (seconds to wait for the next
                event; ``math.inf`` waits forever) and ``stream_timeout``
                (seconds the whole stream may take).

        Returns:
            A `ChatCompletion`, or with ``stream=True`` an
            `AsyncChatCompletionStream` (a `ChatCompletionStream` on the
            blocking client).
        """
        spec = _spec(
            model=model,
            messages=messages,
            max_completion_tokens=max_completion_tokens,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            repetition_penalty=repetition_penalty,
            response_format=response_format,
            tools=tools,
            tool_choice=tool_choice,
            user=user,
            stream=stream,
            extra_body=options.get("extra_body"),
        )
        if stream:
            return await self._client._stream(spec, options)
        _stream_only(options)
        response = await self._client._request(spec, ChatCompletion, options)
        return response.data

    @overload
    async def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ParsedChatCompletion[T]: ...

    @overload
    async def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: Literal[True],
        **options: Any,
    ) -> AsyncParsedChatCompletionStream[T]: ...

    async def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: bool = False,
        **options: Any,
    ) -> ParsedChatCompletion[T] | AsyncParsedChatCompletionStream[T]:
        """Ask for JSON that fits *response_format*, a class of yours, and structure the reply.

        The JSON Schema of the class (see `json_schema`) is sent as the response
        format; the reply is structured into the class by the client's converter.

        Args:
            model: the model id.
            messages: the conversation, as for `create`.
            response_format: an attrs class or a dataclass: nested classes,
                ``Optional``, ``Literal``, ``Enum``, lists, tuples,
                ``dict[str, X]``, dates and defaults are all understood.
            stream: return an `AsyncParsedChatCompletionStream`: the reply's
                text as it is written, and the parsed object at its end.
            **options: any other argument of `create` (``temperature``,
                ``max_completion_tokens``, ``timeout``...).

        Returns:
            A `ParsedChatCompletion` whose ``parsed`` is an instance of
            *response_format*; with ``stream=True`` an
            `AsyncParsedChatCompletionStream`.

        Raises:
            StructuredOutputError: the reply is not JSON, does not fit the
                class, or was cut off at ``max_completion_tokens``.
        """
        from .._structured import parse_completion, response_format_for

        answer_format = response_format_for(response_format)
        answer = await self.create(
            model=model,
            messages=messages,
            response_format=answer_format,
            stream=stream,
            **options,
        )
        converter, loads = await self._client._codec()
        if isinstance(answer, ChatCompletion):
            return parse_completion(answer, response_format, converter, loads)
        from .._parsed_streams import AsyncParsedChatCompletionStream

        return AsyncParsedChatCompletionStream(answer, response_format, converter, loads)

    def run_tools(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        tools: Iterable[FunctionTool | Callable[..., Any]],
        max_iterations: int = 10,
        approve: Approve | None = None,
        **options: Any,
    ) -> AsyncToolRunner:
        """Run a conversation in which the model calls your Python functions.

        Nothing is sent until the runner is iterated (``async for completion
        in runner``) or run to its end (``await runner.until_done()``). Each
        request sends the conversation so far; every tool call of the answer
        is run (the calls of one turn concurrently) and its result appended,
        until the model answers without calling a tool. A tool that raises,
        a name that no tool has and arguments that do not fit become an error
        result the model reads; the run goes on.

        Args:
            model: the model id.
            messages: the conversation to start from.
            tools: plain functions (sync or async, with type hints and a
                docstring) or `FunctionTool` objects.
            max_iterations: the most requests to send; a model still calling
                tools after that raises `MaxIterationsError`.
            approve: called with each `ToolCall` before it runs (it may be
                async); ``False`` refuses the call, and the model is told so.
            **options: any other argument of `create` but ``stream``,
                ``tools`` and ``response_format`` (``tool_choice``,
                ``temperature``, ``timeout``...).

        Returns:
            An `AsyncToolRunner`, whose ``messages`` is the conversation.
        """
        from .._tool_runner import AsyncToolRunner, check_run

        by_name, limit = check_run(model, tools, max_iterations, options)
        send = functools.partial(self.create, model=model, **options)
        return AsyncToolRunner(
            send,
            self._client._codec,
            list(messages),
            by_name,
            limit,
            approve,
        )


class AsyncChat:
    """The Chat API: ``client.chat``. Completions live at ``client.chat.completions``."""

    completions: AsyncCompletions
    """Create chat completions, plain or streamed."""

    def __init__(self, client: Requester) -> None:
        self.completions = AsyncCompletions(client)
