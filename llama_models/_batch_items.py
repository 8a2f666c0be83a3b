"""One request of a batch, read and checked: its id, and the call that sends it.

Pure functions apart from the call itself, which goes through the client's own
``chat.completions.create`` or ``moderations.create``: the body is spread into
their keyword arguments (fields they do not know into ``extra_body``), so a
batch item is checked exactly as a direct call is, and the client's retries,
timeouts and rate limits apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._options import CHAT_OPTIONAL_ARGUMENTS
from .errors import InvalidArgumentError
from .types.batch import CHAT_URL, MODERATIONS_URL, BatchRequest

if TYPE_CHECKING:
    from ._client import AsyncLlamaClient
    from .types.chat import ChatCompletion
    from .types.moderations import Moderation

__all__ = ["Send", "custom_id_of", "prepare"]

Send = Callable[[], Awaitable["ChatCompletion | Moderation"]]

# The body fields that are arguments of chat.completions.create; the rest go in extra_body.
_CHAT_ARGUMENTS = CHAT_OPTIONAL_ARGUMENTS | {"model", "messages"}
_MODERATION_ARGUMENTS = frozenset({"model", "messages"})
_URLS = (CHAT_URL, MODERATIONS_URL)
_KEYS = frozenset({"custom_id", "body", "method", "url"})


def custom_id_of(item: object) -> str | None:
    """The item's ``custom_id`` if it has a usable one, without checking anything else."""
    if isinstance(item, BatchRequest):
        custom_id: object = item.custom_id
    elif isinstance(item, Mapping):
        custom_id = item.get("custom_id")
    else:
        return None
    return custom_id if isinstance(custom_id, str) else None


def read_item(item: object) -> tuple[str | None, str, Mapping[str, Any]]:
    """``(custom_id, url, body)`` of a `BatchRequest` or a batch-file dict, checked.

    Raises:
        InvalidArgumentError: the item has the wrong shape.
    """
    if isinstance(item, BatchRequest):
        custom_id, url, body = item.custom_id, item.url, item.body
    elif isinstance(item, Mapping):
        unknown = sorted(str(key) for key in item if key not in _KEYS)
        if unknown:
            raise InvalidArgumentError(
                f"a batch request has the keys custom_id, body, method and url, not {unknown}"
            )
        if "body" not in item:
            raise InvalidArgumentError("a batch request needs a 'body': the API's JSON body")
        method = item.get("method", "POST")
        if method != "POST":
            raise InvalidArgumentError(f"a batch request's method must be 'POST', not {method!r}")
        custom_id, url, body = item.get("custom_id"), item.get("url", CHAT_URL), item["body"]
    else:
        raise InvalidArgumentError(
            "a batch request must be a BatchRequest or a dict like "
            f"{{'custom_id': ..., 'body': {{...}}}}, not {type(item).__name__}"
        )
    if custom_id is not None and not isinstance(custom_id, str):
        raise InvalidArgumentError(f"custom_id must be a str, not {type(custom_id).__name__}")
    if url not in _URLS:
        raise InvalidArgumentError(f"url must be one of {', '.join(_URLS)}, not {url!r}")
    if not isinstance(body, Mapping):
        raise InvalidArgumentError(f"body must be a JSON object, not {type(body).__name__}")
    if body.get("stream", False) is not False:
        raise InvalidArgumentError("streaming is not available in a batch; drop 'stream'")
    return custom_id, url, body


def prepare(client: AsyncLlamaClient, item: object) -> Send:
    """The call that sends *item* through *client*, once its shape is checked.

    The body itself is checked when the call runs, by the method it goes to,
    before anything is sent.

    Raises:
        InvalidArgumentError: the item has the wrong shape.
    """
    _, url, body = read_item(item)
    fields = {key: value for key, value in body.items() if key != "stream"}
    if url == MODERATIONS_URL:
        unknown = sorted(str(key) for key in fields if key not in _MODERATION_ARGUMENTS)
        if unknown:
            raise InvalidArgumentError(
                f"a moderation body has the fields messages and model, not {unknown}"
            )
        messages, model = fields.get("messages"), fields.get("model")
        return lambda: client.moderations.create(messages=messages, model=model)  # type: ignore[arg-type]
    arguments = {key: value for key, value in fields.items() if key in _CHAT_ARGUMENTS}
    extra = {key: value for key, value in fields.items() if key not in _CHAT_ARGUMENTS}
    arguments.setdefault("model", None)  # checked, and refused, by create
    arguments.setdefault("messages", None)
    return lambda: client.chat.completions.create(**arguments, extra_body=extra or None)
