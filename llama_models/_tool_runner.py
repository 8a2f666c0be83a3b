"""``run_tools``: send, run every call the model makes, send the results back, until it answers.

Both runners are iterators of the completions of a run, one per request, and keep
the conversation in ``messages``: each assistant turn, then the results of its tool
calls. The async runner runs the calls of one turn concurrently; the blocking one
runs them one after another in the caller's thread (an async function among the
tools runs on the client's event loop). ``max_iterations`` bounds the number of
requests: a model still calling tools after that many ends the run with
`MaxIterationsError`.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any

from .errors import InvalidArgumentError, MaxIterationsError
from .types.chat import ChatCompletion
from .types.messages import ToolCall, ToolMessage

if TYPE_CHECKING:
    import cattrs

    from ._tools import Approve, FunctionTool
    from .types.messages import MessageParam

__all__ = ["AsyncToolRunner", "ToolRunner", "check_run"]


def check_run(
    model: object,
    tools: Iterable[FunctionTool | Callable[..., Any]],
    max_iterations: object,
    options: Mapping[str, Any],
) -> tuple[dict[str, FunctionTool], int]:
    """The arguments of ``run_tools`` that it checks itself; the rest are create()'s."""
    from ._chat_request import check_model
    from ._tools import tools_by_name

    for name in ("stream", "tools", "response_format"):
        if name in options:
            raise InvalidArgumentError(f"run_tools does not take {name}")
    check_model(model)
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise InvalidArgumentError(
            f"max_iterations must be an int of at least 1, not {max_iterations!r}"
        )
    return tools_by_name(tools), max_iterations


class _Run:
    """The state both runners share: the conversation, the tools, the count of requests."""

    def __init__(
        self,
        messages: Sequence[MessageParam],
        tools: Mapping[str, FunctionTool],
        max_iterations: int,
        approve: Approve | None,
    ) -> None:
        self.messages: list[MessageParam] = list(messages)
        self._tools = tools
        self._max_iterations = max_iterations
        self._approve = approve
        self._requests = 0
        self._final: ChatCompletion | None = None

    def _next_request(self) -> list[Any]:
        """The tools to send with the next request, or the end of the run."""
        if self._requests >= self._max_iterations:
            raise MaxIterationsError(
                f"the model still called tools after max_iterations={self._max_iterations} "
                "requests; the error's messages hold the conversation so far",
                messages=self.messages,
            )
        self._requests += 1
        return [tool.tool for tool in self._tools.values()]

    def _answered(self, completion: ChatCompletion) -> Sequence[ToolCall]:
        """Record the model's turn; the calls it asks for (none: the run is over)."""
        self.messages.append(completion.completion_message)
        if not completion.tool_calls:
            self._final = completion
        return completion.tool_calls

    @property
    def final(self) -> ChatCompletion | None:
        """The completion that ended the run (no tool calls), once there is one."""
        return self._final


class AsyncToolRunner(_Run):
    """The run of ``client.chat.completions.run_tools(...)`` on the async client.

    ``async for completion in runner`` gives each completion as it comes, its
    tool calls already answered in `messages`; ``await runner.until_done()``
    runs to the end and returns the final completion.

    Attributes:
        messages: the conversation: the messages passed in, then each
            assistant turn and the tool results that answer it.
    """

    def __init__(
        self,
        send: Callable[..., Awaitable[ChatCompletion]],
        codec: Callable[[], Awaitable[tuple[cattrs.Converter, Callable[[str], Any]]]],
        messages: Sequence[MessageParam],
        tools: Mapping[str, FunctionTool],
        max_iterations: int,
        approve: Approve | None,
    ) -> None:
        super().__init__(messages, tools, max_iterations, approve)
        self._send = send
        self._codec = codec

    def __aiter__(self) -> AsyncIterator[ChatCompletion]:
        return self

    async def __anext__(self) -> ChatCompletion:
        if self._final is not None:
            raise StopAsyncIteration
        completion = await self._send(messages=list(self.messages), tools=self._next_request())
        calls = self._answered(completion)
        if calls:
            converter, _ = await self._codec()
            # Every call is waited for before an error (of an approve hook) goes up.
            answers = await asyncio.gather(
                *(self._answer(call, converter) for call in calls), return_exceptions=True
            )
            for answer in answers:
                if isinstance(answer, BaseException):
                    raise answer
            self.messages.extend(typing.cast(list[ToolMessage], answers))
        return completion

    async def until_done(self) -> ChatCompletion:
        """Run to the end: the completion in which the model answers without calling tools.

        Raises:
            MaxIterationsError: the model still called tools after
                ``max_iterations`` requests.
        """
        async for _ in self:
            pass
        return typing.cast(ChatCompletion, self._final)  # the iteration ends only with one

    async def _answer(self, call: ToolCall, converter: cattrs.Converter) -> ToolMessage:
        from ._tools import Call

        prepared = Call(call)
        prepared.prepare(self._tools, converter)
        if prepared.failed is None and self._approve is not None:
            approved = self._approve(call)
            if inspect.isawaitable(approved):
                approved = await approved
            if not approved:
                prepared.refuse()
        if prepared.failed is not None or prepared.function is None:
            return prepared.error(prepared.failed or "")
        try:
            value = prepared.function(**prepared.kwargs)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # the model hears of it and may try again
            return prepared.raised(exc)
        return prepared.result(value, converter)


class ToolRunner(_Run):
    """The run of ``client.chat.completions.run_tools(...)`` on the blocking client.

    ``for completion in runner`` gives each completion as it comes, its tool
    calls already answered in `messages`; ``runner.until_done()`` runs to the
    end and returns the final completion.

    Attributes:
        messages: the conversation: the messages passed in, then each
            assistant turn and the tool results that answer it.
    """

    def __init__(
        self,
        send: Callable[..., ChatCompletion],
        converter: Callable[[], cattrs.Converter],
        run_async: Callable[[Callable[[], Awaitable[Any]]], Any],
        messages: Sequence[MessageParam],
        tools: Mapping[str, FunctionTool],
        max_iterations: int,
        approve: Approve | None,
    ) -> None:
        super().__init__(messages, tools, max_iterations, approve)
        self._send = send
        self._converter = converter
        self._run_async = run_async

    def __iter__(self) -> Iterator[ChatCompletion]:
        return self

    def __next__(self) -> ChatCompletion:
        if self._final is not None:
            raise StopIteration
        completion = self._send(messages=list(self.messages), tools=self._next_request())
        calls = self._answered(completion)
        if calls:
            converter = self._converter()
            self.messages.extend(self._answer(call, converter) for call in calls)
        return completion

    def until_done(self) -> ChatCompletion:
        """Run to the end: the completion in which the model answers without calling tools.

        Raises:
            MaxIterationsError: the model still called tools after
                ``max_iterations`` requests.
        """
        for _ in self:
            pass
        return typing.cast(ChatCompletion, self._final)  # the iteration ends only with one

    def _answer(self, call: ToolCall, converter: cattrs.Converter) -> ToolMessage:
        from ._tools import Call

        prepared = Call(call)
        prepared.prepare(self._tools, converter)
        approve = self._approve
        if prepared.failed is None and approve is not None and not self._call(approve, call):
            prepared.refuse()
        function = prepared.function
        if prepared.failed is not None or function is None:
            return prepared.error(prepared.failed or "")
        try:
            value = self._call(function, **prepared.kwargs)
        except Exception as exc:  # the model hears of it and may try again
            return prepared.raised(exc)
        return prepared.result(value, converter)

    def _call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call *function* here, or on the client's loop if it is async; await what it gives.

        A sync function that returns an awaitable (a plain decorator around an async
        function, say) is awaited on the loop too, as the async runner does; an async
        ``approve`` is thus honoured instead of its coroutine counting as approval.
        """
        from ._tools import is_async

        if is_async(function):
            return self._run_async(lambda: function(*args, **kwargs))
        value = function(*args, **kwargs)
        if inspect.isawaitable(value):
            awaitable = value
            return self._run_async(lambda: awaitable)
        return value
