"""Tools from plain Python functions, and running the calls the model makes.

`FunctionTool.from_function` reads a function's name, docstring and type hints:
the tool's description comes from the docstring, the JSON Schema of its
parameters from the signature (`parameters_class`, `json_schema`), and each
parameter's description from the docstring's ``Args:``/``Parameters``/``:param:``
entries. A call's arguments are structured by the client's converter into the
annotated types (enums, literals, attrs classes, dataclasses...) before the
function runs.

Running a call never raises for what the model did wrong: an unknown tool, arguments
that do not validate, a call the caller refuses, and an exception in the function all
become a tool result that says what went wrong, so the model can try again.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, overload

import attrs
import cattrs

from .errors import InvalidArgumentError, ModelOutputError
from .types.messages import Tool, ToolCall, ToolMessage

# The API's rule for a function name (llama-api.md section 4.3).
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

__all__ = ["Approve", "FunctionTool", "function_tool", "tools_by_name"]

Approve = Callable[[ToolCall], "bool | Awaitable[bool]"]
"""A hook that approves (``True``) or refuses (``False``) each call before it runs."""


@attrs.frozen
class FunctionTool:
    """A Python function the model may call, with the `Tool` that describes it.

    Build one with `from_function` (or the `function_tool` decorator); `run_tools`
    takes plain functions too and builds them itself.

    Attributes:
        function: the function, sync or async.
        tool: what is sent to the API: name, description and parameters schema.
        arguments: the attrs class the call's arguments are structured into.
    """

    function: Callable[..., Any]
    tool: Tool
    arguments: type[Any]

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> FunctionTool:
        """The tool for *function*: its name, docstring and type hints describe it.

        Args:
            function: a function (or bound method) whose parameters all have
                type hints; ``*args``, ``**kwargs`` and positional-only
                parameters are refused.
            name: the tool's name; the function's ``__name__`` by default.
            description: what the tool does, for the model; the docstring's
                description by default.

        Raises:
            InvalidArgumentError: a parameter has no type hint, or a type that
                has no JSON Schema.
        """
        from ._schema import function_description, json_schema, parameters_class, schema_name

        try:
            arguments = parameters_class(function)
            parameters = json_schema(arguments)
            tool_name = name if name is not None else schema_name(function)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"cannot make a tool of {function!r}: {exc}") from exc
        if not _TOOL_NAME.fullmatch(tool_name):
            raise InvalidArgumentError(
                f"a tool's name must be 1-64 letters, digits, '_' or '-', not {tool_name!r}"
            )
        if description is None:
            description = function_description(function)
        tool = Tool(name=tool_name, description=description, parameters=parameters)
        return cls(function, tool, arguments)

    @property
    def name(self) -> str:
        """The tool's name."""
        return self.tool.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function itself, so a decorated function can still be called as before."""
        return self.function(*args, **kwargs)


@overload
def function_tool(
    function: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> FunctionTool: ...


@overload
def function_tool(
    function: None = None, *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def function_tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """`FunctionTool.from_function` as a decorator: ``@function_tool`` or ``@function_tool(name=...)``."""
    if function is None:
        return lambda wrapped: FunctionTool.from_function(
            wrapped, name=name, description=description
        )
    return FunctionTool.from_function(function, name=name, description=description)


def tools_by_name(tools: Iterable[FunctionTool | Callable[..., Any]]) -> dict[str, FunctionTool]:
    """The tools of a run, each made a `FunctionTool`, by name; two of one name are refused."""
    if isinstance(tools, (str, Mapping)) or not isinstance(tools, Iterable):
        raise InvalidArgumentError("tools must be a list of functions or FunctionTool objects")
    found: dict[str, FunctionTool] = {}
    for index, item in enumerate(tools):
        if not isinstance(item, FunctionTool):
            if not callable(item):
                raise InvalidArgumentError(
                    f"tools[{index}] must be a function or a FunctionTool, not {type(item).__name__}"
                )
            item = FunctionTool.from_function(item)
        if item.name in found:
            raise InvalidArgumentError(f"tools[{index}]: two tools are named {item.name!r}")
        found[item.name] = item
    if not found:
        raise InvalidArgumentError("tools must hold at least one tool")
    return found


class Call:
    """One tool call of the model, made ready to run: the function and its arguments.

    `prepare` does everything that can go wrong before the function runs; a
    failure there is already the call's result (`failed`).
    """

    __slots__ = ("call", "failed", "function", "kwargs")

    def __init__(self, call: ToolCall) -> None:
        self.call = call
        self.function: Callable[..., Any] | None = None
        self.kwargs: dict[str, Any] = {}
        self.failed: str | None = None

    def prepare(self, tools: Mapping[str, FunctionTool], converter: cattrs.Converter) -> None:
        from ._converter import StructureError, structure

        tool = tools.get(self.call.name)
        if tool is None:
            known = ", ".join(sorted(tools))
            self.failed = f"there is no tool named {self.call.name!r}; the tools are {known}"
            return
        try:
            data = self.call.parse_arguments()
            arguments = structure(converter, data, tool.arguments)
        except ModelOutputError as exc:
            self.failed = str(exc)
            return
        except StructureError as exc:
            self.failed = f"the arguments do not fit {tool.name}: {'; '.join(exc.errors)}"
            return
        self.function = tool.function
        self.kwargs = {a.name: getattr(arguments, a.name) for a in attrs.fields(tool.arguments)}

    def refuse(self) -> None:
        self.failed = f"the call of {self.call.name!r} was refused; do not call it again"

    def result(self, value: Any, converter: cattrs.Converter) -> ToolMessage:
        """The tool message for the value the function returned."""
        if isinstance(value, str):
            return ToolMessage(self.call.id, value)
        from ._converter import json_dumps

        # The converter's own encoder: orjson's converter leaves dates, enums and UUIDs
        # for orjson to write, which the standard library's json cannot.
        try:
            text = json_dumps(converter)(converter.unstructure(value)).decode()
        except (TypeError, ValueError) as exc:
            return self.error(f"its result cannot be sent as JSON: {exc}")
        return ToolMessage(self.call.id, text)

    def error(self, problem: str) -> ToolMessage:
        """The tool message that tells the model the call failed, and why."""
        return ToolMessage(self.call.id, f"Error: {problem}")

    def raised(self, exc: BaseException) -> ToolMessage:
        return self.error(f"{self.call.name} raised {type(exc).__name__}: {exc}")


def is_async(function: Callable[..., Any]) -> bool:
    """Whether calling *function* gives an awaitable to wait for."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
