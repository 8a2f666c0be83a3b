"""The public surface: curated, sorted, documented and cheap to import."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import cattrs
import pytest

import llama_models
import llama_models.errors
import llama_models.otel
import llama_models.redis
import llama_models.testing
import llama_models.types

PUBLIC_MODULES = [
    llama_models,
    llama_models.errors,
    llama_models.types,
    llama_models.testing,
    llama_models.otel,
    llama_models.redis,
]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_complete(module: types.ModuleType) -> None:
    """__all__ is sorted and lists every public, non-module name the module defines."""
    exported = list(module.__all__)
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
        and getattr(value, "__module__", module.__name__).startswith("llama_models")
    }
    assert public <= set(exported)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_every_public_name_is_documented(module: types.ModuleType) -> None:
    """Every exported class and function, and every public method, has a docstring."""
    for name in module.__all__:
        obj = getattr(module, name)
        if name == "__version__" or typing.get_origin(obj) is typing.Literal:
            continue  # a Literal alias cannot carry a docstring; its module documents it
        if isinstance(obj, cattrs.BaseConverter):
            continue  # the default converter, an instance: the reference documents it
        assert inspect.getdoc(obj), name
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    assert inspect.getdoc(member), f"{name}.{attr}"


def test_every_error_is_a_llama_error() -> None:
    """Every exception class in llama_models.errors derives from LlamaError."""
    for name in llama_models.errors.__all__:
        assert issubclass(getattr(llama_models.errors, name), llama_models.LlamaError)
        assert getattr(llama_models, name) is getattr(llama_models.errors, name)


def test_version_comes_from_the_distribution() -> None:
    """__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert llama_models.__version__ == version("llama-models-client")
    with pytest.raises(AttributeError):
        llama_models.no_such_name  # noqa: B018


def test_import_is_cheap() -> None:
    """Importing the package loads neither aiohttp, asyncio, cattrs, anyio, logging nor opentelemetry."""
    heavy = ("aiohttp", "anyio", "asyncio", "cattrs", "logging", "opentelemetry", "yarl")
    code = f"import sys, llama_models; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_package_ships_py_typed() -> None:
    """The package is marked as typed (PEP 561)."""
    from importlib.resources import files

    assert files("llama_models").joinpath("py.typed").is_file()


REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"
DIRECTIVE = re.compile(
    r"^\.\. (?:auto(?:class|exception|function|data)|py:data|automodule):: ([\w.]+)", re.MULTILINE
)


def _documented_objects() -> dict[int, str]:
    """The objects the API reference documents, by identity, with the name it uses."""
    found: dict[int, str] = {}
    for page in REFERENCE.glob("*.md"):
        for name in DIRECTIVE.findall(page.read_text()):
            module_name, _, attr = name.rpartition(".")
            try:
                obj = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError):
                obj = importlib.import_module(name)
            found.setdefault(id(obj), name)
    return found


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_every_public_name_is_in_the_api_reference(module: types.ModuleType) -> None:
    """The API reference in docs/reference documents every name of every public __all__."""
    documented = _documented_objects()
    missing = [
        name
        for name in module.__all__
        if id(getattr(module, name)) not in documented
        and f"{module.__name__}.{name}" not in documented.values()
    ]
    assert missing == []
