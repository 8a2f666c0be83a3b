"""What every blocking resource shares: the docstring copy from its async twin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def twin(async_fn: Callable[..., Any]) -> Callable[[F], F]:
    """Give a blocking method the docstring of its async twin."""

    def decorate(fn: F) -> F:
        fn.__doc__ = async_fn.__doc__
        return fn

    return decorate
