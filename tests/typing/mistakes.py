"""Mistakes users make, each rejected by mypy with exactly the code in its ignore; see ``api.py``."""

from __future__ import annotations

import aiohttp

from llama_models import (
    AsyncLlamaClient,
    ChatCompletion,
    LlamaClient,
    Message,
    ModelList,
    RateLimitError,
    ToolCall,
)
from llama_models.testing import ChatReply, Fault

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]


# -- negative cases: each line must fail with exactly the code in its ignore ------------


def use(*values: object) -> None:
    """Take values, so that a negative case can be an expression without being useless."""


def negative_blocking(client: LlamaClient, flag: bool) -> None:
    chat = client.chat.completions
    # idle_timeout (and stream_timeout) exist only on the stream=True overloads.
    chat.create(model=MODEL, messages=HELLO, idle_timeout=30)  # type: ignore[call-overload]
    # stream=True returns a ChatCompletionStream, not a ChatCompletion.
    completion: ChatCompletion = chat.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[assignment]
    # With a bool that is not a literal, the result must be narrowed before use.
    use(chat.create(model=MODEL, messages=HELLO, stream=flag).text)  # type: ignore[union-attr]
    # The model id is a str.
    chat.create(model=4, messages=HELLO)  # type: ignore[call-overload]
    # OpenAI's max_tokens is called max_completion_tokens here.
    chat.create(model=MODEL, messages=HELLO, max_tokens=64)  # type: ignore[call-overload]
    # with_response has no streaming variant.
    chat.with_response.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[call-arg]
    # retrieve needs the model id.
    client.models.retrieve()  # type: ignore[call-arg]
    # The parsed result of an APIResponse is .data.
    use(client.models.with_response.list().parsed)  # type: ignore[attr-defined]
    # Responses are frozen attrs classes.
    completion.id = "chatcmpl-1"  # type: ignore[misc]
    # The purpose is one of the UploadPurpose literals.
    client.uploads.upload_file("train.jsonl", purpose="finetune")  # type: ignore[arg-type]
    # The blocking client owns its event loop, so it takes no aiohttp session.
    LlamaClient(http_session=aiohttp.ClientSession())  # type: ignore[call-arg]


def negative_chat_types(client: LlamaClient, call: ToolCall) -> None:
    # list[Message] holds message objects only; a list that mixes in dicts is list[MessageParam].
    conversation: list[Message] = [{"role": "user", "content": "Hi"}]  # type: ignore[list-item]
    use(conversation)
    # The arguments are a dict keyed by argument name.
    use(call.parse_arguments()[0])  # type: ignore[index]
    with client.chat.completions.create(model=MODEL, messages=HELLO, stream=True) as stream:
        for chunk in stream:
            # An UnknownEvent has no delta: narrow the event first, or read chunk.delta.
            use(chunk.event.delta)  # type: ignore[union-attr]
            # chunk.delta is None for an UnknownEvent.
            use(chunk.delta.type)  # type: ignore[union-attr]


def negative_rate_limit(exc: RateLimitError) -> None:
    # retry_after is None when the server did not say how long to wait.
    use(exc.retry_after * 2)  # type: ignore[operator]


def negative_async_in_sync(client: AsyncLlamaClient) -> None:
    # Calling an async method without await gives a coroutine, not the result.
    models: ModelList = client.models.list()  # type: ignore[assignment]
    use(models)
    # The async client is an async context manager only.
    with AsyncLlamaClient() as other:  # type: ignore[attr-defined]
        use(other)


async def negative_async(client: AsyncLlamaClient, blocking: LlamaClient) -> None:
    # A forgotten await: the coroutine is created and dropped.
    client.models.list()  # type: ignore[unused-coroutine]
    # The blocking client's methods return results, not awaitables.
    await blocking.models.list()  # type: ignore[misc]
    stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    # An async stream needs async for.
    for chunk in stream:  # type: ignore[attr-defined]
        use(chunk)


def negative_testing_helpers() -> None:
    # Faults and replies are built by their classmethods, never by calling the class.
    use(Fault(503))  # type: ignore[arg-type]
    use(ChatReply("Hello!"))  # type: ignore[arg-type]
