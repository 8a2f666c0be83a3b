"""Two Sphinx hooks that keep the API reference whole and its links resolvable.

- Every name in ``llama_models.__all__`` must be documented as ``llama_models.<name>``;
  a missing one is a warning, and the docs build turns warnings into errors.
- Type hints name classes by the module that defines them
  (``llama_models.types.chat.ChatCompletion``), while the reference documents them
  where users import them (``llama_models.ChatCompletion``). A reference that does
  not resolve is retried by its last dotted part among the documented objects.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.util import logging

import llama_models

logger = logging.getLogger(__name__)


def _documented(env: Any) -> dict[str, Any]:
    return env.get_domain("py").objects  # type: ignore[no-any-return]


def check_public_names(app: Any, env: Any) -> None:
    """Warn about each public name the API reference leaves out."""
    documented = _documented(env)
    for name in llama_models.__all__:
        if f"llama_models.{name}" not in documented:
            logger.warning("llama_models.%s is public but not in the API reference", name)


def resolve_by_suffix(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference that Sphinx could not, by the documented object it ends with.

    ``llama_models.types.chat.ChatCompletion``, ``ChatCompletion`` and
    ``ToolCall.parse_arguments`` each resolve to the one documented object whose
    full name ends with their last parts. A bare lowercase word that names nothing,
    such as a parameter in ```seconds```, is shown as code without a link.
    """
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"].removeprefix("~")
    parts = target.split(".")
    documented = _documented(env)
    for start in range(len(parts)):
        suffix = ".".join(parts[start:])
        matches = [
            full
            for full, entry in documented.items()
            if not entry.aliased and (full == suffix or full.endswith("." + suffix))
        ]
        if len(matches) == 1:
            return _link(app, node, contnode, matches[0], documented[matches[0]])
        if matches or target.startswith("llama_models."):
            break
    if len(parts) == 1 and target.isidentifier() and target.islower():
        return contnode
    return None


def _link(app: Any, node: Any, contnode: Any, full: str, entry: Any) -> Any:
    refnode = nodes.reference("", "", internal=True)
    uri = app.builder.get_relative_uri(node["refdoc"], entry.docname)
    refnode["refuri"] = f"{uri}#{entry.node_id}"
    refnode["reftitle"] = full
    refnode.append(contnode)
    return refnode


# Objects the SDK builds and hands out; their constructors take private types. The
# clients are documented by their public names, so no client matches these prefixes.
_HANDED_OUT = ("llama_models._resources.", "llama_models._sync.")
_HANDED_OUT_NAMES = {
    "llama_models.AsyncChatCompletionStream",
    "llama_models.ChatCompletionStream",
    "llama_models.AsyncBatch",
    "llama_models.Batch",
}


def hide_private_constructors(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: Any, return_annotation: Any
) -> Any:
    """Show no constructor for the resources and streams, which users never build."""
    if what == "class" and (name in _HANDED_OUT_NAMES or name.startswith(_HANDED_OUT)):
        return ("", None)
    return None


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", hide_private_constructors)
    app.connect("env-check-consistency", check_public_names)
    app.connect("missing-reference", resolve_by_suffix)
