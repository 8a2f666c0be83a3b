"""Client options as users write them: derived clients, per-call options, raw bodies, get/post.

Checked by ``mypy --strict`` and never executed, like ``api.py`` (see its docstring):
positive cases state types with ``assert_type``; each negative case carries the
``# type: ignore[<code>]`` mypy must report.
"""

from __future__ import annotations

import array
import dataclasses
import io
import ssl
from datetime import timedelta
from typing import Any

from typing_extensions import assert_type

from llama_models import (
    APIResponse,
    AsyncLlamaClient,
    LlamaClient,
    Model,
    ModelList,
    Moderation,
    UploadPart,
)

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


@dataclasses.dataclass
class Owned:
    id: str


def settings() -> None:
    client = LlamaClient(
        timeout=None,
        default_query={"team": "a"},
        proxy="http://proxy:3128",
        ssl="/etc/ssl/corporate-ca.pem",
        max_connections=20,
    )
    assert_type(client.timeout, float | None)
    LlamaClient(proxy=False, ssl=ssl.create_default_context())
    derived = client.with_options(timeout=600, max_retries=5, default_headers={"X-Job": "1"})
    assert_type(derived, LlamaClient)
    assert_type(client.copy(timeout=None), LlamaClient)


async def async_settings(client: AsyncLlamaClient) -> None:
    assert_type(client.with_options(max_retries=0), AsyncLlamaClient)
    assert_type(await client.with_options(timeout=None).models.list(), ModelList)
    assert_type(await client.get("models", cast_to=ModelList), ModelList)
    assert_type(
        await client.post("moderations", body={"messages": HELLO}, cast_to=dict), dict[Any, Any]
    )


def per_call(client: LlamaClient) -> None:
    assert_type(
        client.models.list(
            timeout=None, max_retries=0, extra_headers={"X-Trace": "t"}, extra_query={"v": "1"}
        ),
        ModelList,
    )
    assert_type(client.models.retrieve(MODEL, timeout=5), Model)
    assert_type(client.moderations.create(messages=HELLO, extra_body={"x": 1}), Moderation)
    client.chat.completions.create(model=MODEL, messages=HELLO, max_retries=1, extra_query={})
    with client.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, idle_timeout=5, timeout=None
    ) as stream:
        stream.final_completion()


def raw(client: LlamaClient) -> None:
    response = client.models.with_response.list()
    assert_type(response, APIResponse[ModelList])
    assert_type(response.content, bytes)
    assert_type(response.text, str)
    assert_type(response.json(), Any)
    assert_type(response.url, str)
    assert_type(response.elapsed, timedelta)
    assert_type(client.get("models", cast_to=bytes), bytes)
    assert_type(client.get("models/x", cast_to=Owned), Owned)


def parts(client: LlamaClient) -> None:
    assert_type(client.uploads.part("u", data=bytearray(b"x")), UploadPart)
    client.uploads.part("u", data=memoryview(b"x"))
    client.uploads.part("u", data=array.array("B", b"x"))
    client.uploads.part("u", data=io.BytesIO(b"x"))
    with open("data.jsonl", "rb") as file:
        client.uploads.part("u", data=file)


# -- negative cases ---------------------------------------------------------------------


def mistakes(client: LlamaClient, aclient: AsyncLlamaClient) -> None:
    # A timeout is a number of seconds, not a string.
    client.models.list(timeout="30")  # type: ignore[arg-type]
    # max_retries is an int.
    client.models.retrieve(MODEL, max_retries=1.5)  # type: ignore[arg-type]
    # Query parameters are strings.
    client.models.list(extra_query={"limit": 10})  # type: ignore[dict-item]
    # extra_body is for calls with a JSON body; a GET has none.
    client.models.list(extra_body={"a": 1})  # type: ignore[call-arg]
    # A misspelt option is an error, not silently ignored.
    client.models.list(timout=3)  # type: ignore[call-arg]
    # with_options changes settings, not the pool or the key: make a new client for those.
    client.with_options(api_key="other")  # type: ignore[call-arg]
    client.with_options(max_connections=3)  # type: ignore[call-arg]
    # The derived client of a blocking client is a blocking client.
    other: AsyncLlamaClient = client.with_options(timeout=1)  # type: ignore[assignment]
    # cast_to is required, and keyword-only.
    client.get("models")  # type: ignore[call-arg]
    # The proxy is a URL, False or None; True means nothing.
    LlamaClient(proxy=True)  # type: ignore[arg-type]
    # Text is not bytes.
    client.uploads.part("u", data="text")  # type: ignore[arg-type]
    # A batch takes the per-call options, typed as every call's; extra_body is per request.
    client.batch([], timeout=30, extra_headers={"X-Job": "nightly"})
    client.batch([], timeout="30")  # type: ignore[arg-type]
    aclient.batch([], extra_body={"a": 1})  # type: ignore[call-arg]
    del other, aclient
