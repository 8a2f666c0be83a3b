"""The Chat Completions API: ``POST /chat/completions``, plain and streamed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._protocol import RequestSpec
from ..errors import InvalidArgumentError
from ..types.chat import ChatCompletion
from ..types.messages import JsonSchemaFormat, Tool
from ..types.messages import MessageParam as MessageParam  # re-exported for _sync.chat
from ..types.response import APIResponse
from ._base import Requester

if TYPE_CHECKING:
    from .._chat_stream import AsyncChatCompletionStream

__all__ = ["AsyncChat", "AsyncCompletions", "AsyncCompletionsWithResponse"]

ToolParam = Tool | Mapping[str, Any]
ToolChoice = Literal["none", "auto", "required"] | Tool | Mapping[str, Any]
ResponseFormat = JsonSchemaFormat | Mapping[str, Any]


def _spec(**fields: Any) -> RequestSpec:
    from .._chat_request import chat_body  # loaded with the first request, not at import

    return RequestSpec("POST", "chat/completions", chat_body(**fields))


def _stream_only(idle_timeout: float | None, stream_timeout: float | None) -> None:
    for name, value in (("idle_timeout", idle_timeout), ("stream_timeout", stream_timeout)):
        if value is not None:
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
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> APIResponse[ChatCompletion]:
        """Create a chat completion, with the HTTP status, headers and rate limits.

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
            extra_body=extra_body,
        )
        return await self._client._request(
            spec, ChatCompletion, timeout=timeout, extra_headers=extra_headers
        )


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
        timeout: float | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_body: Mapping[str, Any] | None = ...,
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
        timeout: float | None = ...,
        idle_timeout: float | None = ...,
        stream_timeout: float | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_body: Mapping[str, Any] | None = ...,
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
        timeout: float | None = ...,
        idle_timeout: float | None = ...,
        stream_timeout: float | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_body: Mapping[str, Any] | None = ...,
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
        timeout: float | None = None,
        idle_timeout: float | None = None,
        stream_timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
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
            timeout: seconds for the call, retries included (for a stream: until
                its response starts); the client's ``timeout`` when ``None``.
            idle_timeout: streams only: seconds to wait for the next event
                (keep-alive comments do not count); the client's
                ``idle_timeout`` when ``None``; ``math.inf`` waits forever.
            stream_timeout: streams only: seconds the whole stream may take,
                from the request to its last event; no limit when ``None``.
            extra_headers: headers to add to this request only.
            extra_body: fields to add to the JSON body, for API features
                newer than this SDK. A field an argument sets is refused.

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
            extra_body=extra_body,
        )
        if stream:
            return await self._client._stream(
                spec,
                timeout=timeout,
                idle_timeout=idle_timeout,
                stream_timeout=stream_timeout,
                extra_headers=extra_headers,
            )
        _stream_only(idle_timeout, stream_timeout)
        response = await self._client._request(
            spec, ChatCompletion, timeout=timeout, extra_headers=extra_headers
        )
        return response.data


class AsyncChat:
    """The Chat API: ``client.chat``. Completions live at ``client.chat.completions``."""

    completions: AsyncCompletions
    """Create chat completions, plain or streamed."""

    def __init__(self, client: Requester) -> None:
        self.completions = AsyncCompletions(client)
