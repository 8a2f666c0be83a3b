"""Blocking mirrors of the Chat Completions API (`llama_models._resources.chat`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .._options import BodyOptions, StreamOptions, Unpack
from .._resources.chat import (
    AsyncChat,
    AsyncCompletions,
    AsyncCompletionsWithResponse,
    MessageParam,
    ResponseFormat,
    ToolChoice,
    ToolParam,
)
from ..types.chat import ChatCompletion, ParsedChatCompletion
from ..types.response import APIResponse
from ._stream import ChatCompletionStream
from ._twin import twin

if TYPE_CHECKING:
    import cattrs

    from .._chat_stream import AsyncChatCompletionStream
    from .._parsed_streams import AsyncParsedChatCompletionStream, ParsedChatCompletionStream
    from .._portal import Portal
    from .._tool_runner import ToolRunner
    from .._tools import Approve, FunctionTool

T = TypeVar("T")

__all__ = ["Chat", "Completions", "CompletionsWithResponse"]


class CompletionsWithResponse:
    """The `Completions` methods, returning the result with its HTTP response."""

    def __init__(self, portal: Portal, inner: AsyncCompletionsWithResponse) -> None:
        self._portal = portal
        self._inner = inner

    @twin(AsyncCompletionsWithResponse.create)
    def create(
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
        return self._portal.call(
            self._inner.create,
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
            **options,
        )


class Completions:
    """Chat completions: ``client.chat.completions``.

    Attributes:
        with_response: `create` returning an `APIResponse` that carries the
            status code, headers, request id and rate-limit information.
    """

    def __init__(self, portal: Portal, inner: AsyncCompletions) -> None:
        self._portal = portal
        self._inner = inner
        self.with_response = CompletionsWithResponse(portal, inner.with_response)

    @overload
    def create(
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
    def create(
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
    ) -> ChatCompletionStream: ...

    @overload
    def create(
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
    ) -> ChatCompletion | ChatCompletionStream: ...

    @twin(AsyncCompletions.create)
    def create(
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
    ) -> ChatCompletion | ChatCompletionStream:
        result: ChatCompletion | AsyncChatCompletionStream = self._portal.call(
            self._inner.create,
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
            **options,
        )
        if isinstance(result, ChatCompletion):
            return result
        return ChatCompletionStream(self._portal, result)

    @overload
    def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ParsedChatCompletion[T]: ...

    @overload
    def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: Literal[True],
        **options: Any,
    ) -> ParsedChatCompletionStream[T]: ...

    @twin(AsyncCompletions.parse)
    def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: type[T],
        stream: bool = False,
        **options: Any,
    ) -> ParsedChatCompletion[T] | ParsedChatCompletionStream[T]:
        result: ParsedChatCompletion[T] | AsyncParsedChatCompletionStream[T] = self._portal.call(
            self._inner.parse,
            model=model,
            messages=messages,
            response_format=response_format,
            stream=stream,
            **options,
        )
        if isinstance(result, ParsedChatCompletion):
            return result
        from .._parsed_streams import ParsedChatCompletionStream

        inner = ChatCompletionStream(self._portal, result._stream)
        return ParsedChatCompletionStream(inner, response_format, result._converter, result._loads)

    @twin(AsyncCompletions.run_tools)
    def run_tools(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        tools: Iterable[FunctionTool | Callable[..., Any]],
        max_iterations: int = 10,
        approve: Approve | None = None,
        **options: Any,
    ) -> ToolRunner:
        from .._tool_runner import ToolRunner, check_run

        by_name, limit = check_run(model, tools, max_iterations, options)
        portal, client = self._portal, self._inner._client

        def converter() -> cattrs.Converter:
            found, _ = portal.call(client._codec)
            return found

        def run_async(start: Callable[[], Awaitable[Any]]) -> Any:
            return portal.call(_awaited, start)

        send = functools.partial(self.create, model=model, stream=False, **options)
        return ToolRunner(
            send,
            converter,
            run_async,
            list(messages),
            by_name,
            limit,
            approve,
        )


async def _awaited(start: Callable[[], Awaitable[T]]) -> T:
    return await start()


class Chat:
    """The Chat API: ``client.chat``. Completions live at ``client.chat.completions``."""

    completions: Completions
    """Create chat completions, plain or streamed."""

    def __init__(self, portal: Portal, inner: AsyncChat) -> None:
        self.completions = Completions(portal, inner.completions)
