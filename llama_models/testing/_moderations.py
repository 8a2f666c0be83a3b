"""``POST /v1/moderations``: a keyword classifier standing in for Llama Guard (§1.4, §8.9).

The text of every message (system, user, assistant and tool turns alike) is searched,
case-insensitively, for the phrases below; each category with a match is flagged, in
the order of this table:

=========================  ==========================================================
Category                   Phrases
=========================  ==========================================================
``violent-crimes``         murder, kill you, assault
``non-violent-crimes``     steal, shoplift, launder money
``indiscriminate-weapons`` build a bomb, nerve gas, bioweapon
``privacy``                credit card, password, social security number
``self-harm``              hurt myself, kill myself, self-harm
=========================  ==========================================================

The category names follow the MLCommons hazard taxonomy that Llama Guard uses; the
hosted API documents only ``privacy`` and ``self-harm`` by name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ._validation import InvalidRequest, check_messages, message_text, parse_json_body

if TYPE_CHECKING:
    from aiohttp import web

    from ._routes import Call

__all__ = ["CATEGORIES", "DEFAULT_MODERATION_MODEL", "classify", "create_moderation"]

DEFAULT_MODERATION_MODEL = "Llama-Guard"

#: Each category and the lower-case phrases that flag it.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("violent-crimes", ("murder", "kill you", "assault")),
    ("non-violent-crimes", ("steal", "shoplift", "launder money")),
    ("indiscriminate-weapons", ("build a bomb", "nerve gas", "bioweapon")),
    ("privacy", ("credit card", "password", "social security number")),
    ("self-harm", ("hurt myself", "kill myself", "self-harm")),
)


def classify(text: str) -> list[str]:
    """The categories whose phrases occur in `text`, in table order."""
    folded = text.casefold()
    return [name for name, phrases in CATEGORIES if any(p in folded for p in phrases)]


async def create_moderation(call: Call) -> web.StreamResponse:
    """Validate the request like a chat completion's messages, then classify their text.

    ``model`` is optional (default ``"Llama-Guard"``); an id that does not start with
    ``Llama-Guard`` is not a moderation model, so it gets a 404.
    """
    try:
        request = parse_json_body(call.request.headers, await call.request.read())
        model = request.get("model", DEFAULT_MODERATION_MODEL)
        if not isinstance(model, str):
            raise InvalidRequest("model must be a string")
        check_messages(request)
    except InvalidRequest as exc:
        return call.error(400, "Bad request", exc.detail)
    if not model.startswith(DEFAULT_MODERATION_MODEL):
        return call.error(404, "Not found", f"Model {model} not found")
    text = "\n".join(message_text(message) for message in request["messages"])
    categories = classify(text)
    result = {"flagged": bool(categories), "flagged_categories": categories}
    return call.json(json.dumps({"model": model, "results": [result]}).encode())
