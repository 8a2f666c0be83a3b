"""Sphinx configuration for the llama-models documentation (``nox -s docs``)."""

from __future__ import annotations

import sys
from importlib.metadata import version as _distribution_version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _apicheck

project = "llama-models"
author = "llama-models contributors"
copyright = "llama-models contributors"
# The one version number lives in pyproject.toml; the docs read it from the install.
release = _distribution_version("llama-models-client")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
root_doc = "index"

myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_substitutions = {"release": release}
myst_heading_anchors = 3

# Unlabelled fences are terminal output, not Python.
highlight_language = "none"
pygments_style = "friendly"
pygments_dark_style = "monokai"

# Docstrings are Google style; `Name` in one is a cross-reference.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# Attributes become fields of their class, not index entries that clash by name
# (Model.object and ModelList.object).
napoleon_use_ivar = True
default_role = "py:obj"
add_module_names = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
# Bases are shown where they say something (errors, ModelList), not "Bases: object".
autodoc_default_options = {"members": True}

# Every reference must resolve; outside names (the standard library, aiohttp) are
# not linked because the build has no network for intersphinx.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(collections\.abc|typing|types|os|pathlib|ssl|datetime|asyncio|enum)\..*"),
    (r"py:.*", r"(aiohttp|anyio|attrs|cattrs|opentelemetry|redis)(\..*)?"),
    (r"py:.*", r"llama_models(\.\w+)*\.T"),  # the type variable of APIResponse
    # Private helpers that appear in signatures: the base of the JSON classes and its
    # bookkeeping field, run_tools' approval hook type and the request hook type.
    (r"py:.*", r"(llama_models\.types\._wire\.)?(WireObject|WireInfo)|Approve|RequestHook"),
    (r"py:.*", r"(int|float|str|bytes|bool|object|dict|list|tuple|None|Any|Literal|Self|T)"),
    (
        r"py:.*",
        r"(Mapping|Sequence|Iterator|AsyncIterator|Iterable|Callable|Coroutine|TracebackType|PathLike|Path|datetime|SSLContext|TypeVar|Buffer|Unpack|timedelta)",
    ),
]

html_theme = "furo"
# The version goes under the title on the landing page, not into the narrow sidebar.
html_title = "llama-models"
html_static_path: list[str] = []
html_show_sourcelink = False


def setup(app: Any) -> dict[str, Any]:
    _apicheck.setup(app)
    return {"parallel_read_safe": True}
