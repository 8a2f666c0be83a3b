"""Per-call options on every method: timeout, max_retries, extra_headers, extra_query, extra_body."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import pytest

from llama_models import (
    APITimeoutError,
    AsyncLlamaClient,
    InternalServerError,
    InvalidArgumentError,
    LlamaClient,
)
from llama_models.testing import FakeLlamaAPI, Fault

pytestmark = pytest.mark.anyio

MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
DECLARED: dict[str, Any] = {
    "bytes": 3,
    "filename": "a.jsonl",
    "mime_type": "application/jsonl",
    "purpose": "messages_finetune",
}


async def test_extra_query_is_added_to_the_default_query(server: FakeLlamaAPI) -> None:
    """The client's default_query goes on every URL, a call's extra_query after it."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, default_query={"team": "a b"}
    ) as client:
        await client.models.list()
        await client.models.retrieve(MODEL, extra_query={"view": "full", "team": "c"})
        await client.chat.completions.create(model=MODEL, messages=HELLO, extra_query={"x": "1"})
    plain, retrieve, chat = server.requests
    assert plain.query == "team=a+b"
    assert retrieve.query == "team=c&view=full"
    assert chat.query == "team=a+b&x=1"


def test_the_blocking_client_takes_the_same_options(threaded_server: FakeLlamaAPI) -> None:
    """Every per-call option reaches the wire from the blocking client as well."""
    with LlamaClient(
        api_key=threaded_server.api_key, base_url=threaded_server.base_url, default_query={"a": "1"}
    ) as client:
        client.models.list(
            timeout=None, max_retries=0, extra_headers={"X-Trace": "t"}, extra_query={"b": "2"}
        )
        client.moderations.create(messages=HELLO, extra_body={"categories": ["S1"]})
    listing, moderation = threaded_server.requests
    assert listing.query == "a=1&b=2"
    assert listing.headers["X-Trace"] == "t"
    assert moderation.json()["categories"] == ["S1"]


async def test_max_retries_per_call_overrides_the_client(server: FakeLlamaAPI) -> None:
    """max_retries=0 on one call gives up at the first 5xx, whatever the client allows."""
    server.enqueue(Fault.error(503), Fault.error(503), path="/v1/models")
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, max_retries=5
    ) as client:
        with pytest.raises(InternalServerError):
            await client.models.list(max_retries=0)
        assert len(server.requests) == 1
        response = await client.models.with_response.list(max_retries=1)
    assert response.retries == 1


async def test_timeout_none_on_a_call_means_no_overall_limit(server: FakeLlamaAPI) -> None:
    """timeout=None lifts the client's limit for one call; leaving timeout out keeps it."""
    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, timeout=0.2
    ) as client:
        server.enqueue(Fault.delay(0.5), path="/v1/models")
        assert len(await client.models.list(timeout=None)) == 4
        server.enqueue(Fault.delay(0.5), path="/v1/models")
        with pytest.raises(APITimeoutError, match=r"after 0\.2 s"):
            await client.models.list()


@pytest.mark.parametrize("blocking", [False, True], ids=["async", "blocking"])
async def test_timeout_none_on_the_client_means_no_overall_limit(
    server: FakeLlamaAPI, blocking: bool
) -> None:
    """A client made with timeout=None waits as long as the server takes."""
    server.enqueue(Fault.delay(0.3), path="/v1/models")
    if blocking:
        with LlamaClient(api_key=server.api_key, base_url=server.base_url, timeout=None) as sync:
            assert sync.timeout is None
            models = await anyio.to_thread.run_sync(sync.models.list)
    else:
        async with AsyncLlamaClient(
            api_key=server.api_key, base_url=server.base_url, timeout=None
        ) as client:
            assert client.timeout is None
            models = await client.models.list()
    assert len(models) == 4


async def test_extra_body_goes_into_every_json_body(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """extra_body adds fields to moderations.create and uploads.create as to chat."""
    await client.moderations.create(messages=HELLO, extra_body={"categories": ["S1"]})
    await client.uploads.create(**DECLARED, extra_body={"note": "n"})
    moderation, upload = server.requests
    assert moderation.json()["categories"] == ["S1"]
    assert upload.json() == {**DECLARED, "note": "n"}


@pytest.mark.parametrize(
    ("extra_body", "match"),
    [
        ({"temperature": 5}, "temperature must be between 0 and 1"),
        ({"top_k": 1.5}, "top_k must be an int"),
        ({"tool_choice": "required"}, "tool_choice='required' needs tools"),
        ({"messages": []}, "extra_body sets 'messages'"),
    ],
)
async def test_extra_body_fields_are_checked_like_arguments(
    client: AsyncLlamaClient, server: FakeLlamaAPI, extra_body: dict[str, Any], match: str
) -> None:
    """A field of extra_body that an argument could set gets that argument's checks."""
    with pytest.raises(InvalidArgumentError, match=match):
        await client.chat.completions.create(model=MODEL, messages=HELLO, extra_body=extra_body)
    assert server.requests == []


async def test_extra_body_may_not_override_an_argument(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """extra_body may set a field an argument left out, but not one an argument set."""
    with pytest.raises(InvalidArgumentError, match="extra_body sets 'temperature'"):
        await client.chat.completions.create(
            model=MODEL, messages=HELLO, temperature=0.2, extra_body={"temperature": 0.5}
        )
    await client.chat.completions.create(model=MODEL, messages=HELLO, extra_body={"top_p": 0.5})
    (sent,) = server.requests
    assert sent.json()["top_p"] == 0.5


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"timeout": "1"}, "timeout must be a number"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"max_retries": -1}, "max_retries must be an int >= 0"),
        ({"max_retries": None}, "max_retries must be an int"),
        ({"extra_query": {"a": 1}}, "extra_query: the value of 'a' must be a str"),
        ({"extra_query": "a=1"}, "extra_query must be a mapping"),
        ({"extra_headers": {"Authorization": "x"}}, "cannot be overridden"),
        ({"extra_body": {"a": 1}}, "extra_body applies to calls with a JSON body"),
    ],
)
async def test_bad_options_fail_before_any_request(
    client: AsyncLlamaClient, server: FakeLlamaAPI, options: dict[str, Any], match: str
) -> None:
    """A bad option, or an unknown one, raises InvalidArgumentError and nothing is sent."""
    with pytest.raises(InvalidArgumentError, match=match):
        await client.models.list(**options)
    assert server.requests == []


async def test_a_misspelt_option_is_a_type_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """An unknown keyword raises the TypeError Python gives, before any request."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        await client.models.list(timout=1)  # type: ignore[call-arg]
    assert server.requests == []


async def test_stream_options_are_refused_without_a_stream(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """idle_timeout belongs to streams: a plain call with it is refused."""
    with pytest.raises(InvalidArgumentError, match="idle_timeout applies to streams only"):
        await client.chat.completions.create(model=MODEL, messages=HELLO, idle_timeout=5)  # type: ignore[call-overload]
    with pytest.raises(InvalidArgumentError, match="stream_timeout applies to streams only"):
        await client.chat.completions.with_response.create(
            model=MODEL, messages=HELLO, stream_timeout=5
        )  # type: ignore[call-arg]
    assert server.requests == []


async def test_a_stream_takes_the_per_call_options(
    client: AsyncLlamaClient, server: FakeLlamaAPI
) -> None:
    """A streamed completion sends its extra_query and headers, and obeys timeout=None."""
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        stream=True,
        timeout=None,
        max_retries=0,
        extra_query={"q": "1"},
        extra_headers={"X-Trace": "s"},
    )
    async with stream:
        assert (await stream.final_completion()).text
    (sent,) = server.requests
    assert (sent.query, sent.headers["X-Trace"]) == ("q=1", "s")


@pytest.mark.parametrize("codec", ["json", "orjson"])
@pytest.mark.parametrize(
    ("body", "match"),
    [
        # "\udc00" is what json.loads makes of JSON that escapes half a surrogate pair.
        ({"messages": [{"role": "user", "content": "Hi \udc00"}]}, "surrogate"),
        ({"messages": HELLO, "extra_body": {"seen": {1, 2}}}, "not JSON serializable"),
    ],
    ids=["lone surrogate", "a set in extra_body"],
)
async def test_a_body_json_cannot_encode_is_refused_before_sending(
    server: FakeLlamaAPI, codec: Literal["json", "orjson"], body: dict[str, Any], match: str
) -> None:
    """A body the codec cannot encode is an InvalidArgumentError naming why, not its TypeError."""
    if codec == "orjson":
        pytest.importorskip("orjson")
    from llama_models import make_converter

    async with AsyncLlamaClient(
        api_key=server.api_key, base_url=server.base_url, converter=make_converter(codec=codec)
    ) as client:
        with pytest.raises(
            InvalidArgumentError, match="was not sent: its body cannot be"
        ) as caught:
            await client.chat.completions.create(model=MODEL, **body)
    assert match in str(caught.value)
    assert "Hi" not in str(caught.value)
    assert server.requests == []
