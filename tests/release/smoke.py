"""Use the installed wheel as a new user would: ``nox -s smoke`` runs this with ``-W error``.

Not a pytest test. It starts the public fake server and, with the blocking and then the async
client, lists the models, retrieves one, and runs a chat completion, plain and streamed.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

import llama_models
from llama_models import AsyncLlamaClient, LlamaClient
from llama_models.testing import FakeLlamaAPI

REPO = Path(__file__).resolve().parents[2]
MODEL = "Llama-3.3-70B-Instruct"
HELLO = [{"role": "user", "content": "Hello!"}]
REPLY = "You said: Hello!"  # the fake server's default answer

# A ResourceWarning raised in __del__ (an unclosed session or socket) cannot propagate, even
# under -W error; Python reports it through this hook instead, so collect it and fail below.
unraisable: list[str] = []
sys.unraisablehook = lambda event: unraisable.append(
    f"{event.exc_type.__name__}: {event.exc_value}"
)


def blocking(fake: FakeLlamaAPI) -> None:
    with LlamaClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        models = client.models.list()
        print(f"blocking: listed {len(models)} models")
        model = client.models.retrieve(models[0].id)
        print(f"blocking: retrieved {model.id} (owned by {model.owned_by})")
        completion = client.chat.completions.create(model=MODEL, messages=HELLO)
        assert completion.text == REPLY, completion.text
        print(f"blocking: chat said {completion.text!r}")
        stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        with stream:
            text = "".join(stream.text_deltas())
        assert text == REPLY, text
        print(f"blocking: streamed chat said {text!r}")


async def asynchronous(fake: FakeLlamaAPI) -> None:
    async with AsyncLlamaClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        models = await client.models.list()
        print(f"async: listed {len(models)} models")
        model = await client.models.retrieve(models[0].id)
        print(f"async: retrieved {model.id} (owned by {model.owned_by})")
        completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
        assert completion.text == REPLY, completion.text
        print(f"async: chat said {completion.text!r}")
        stream = await client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
        async with stream:
            text = "".join([delta async for delta in stream.text_deltas()])
        assert text == REPLY, text
        print(f"async: streamed chat said {text!r}")


def main() -> None:
    installed = Path(llama_models.__file__).resolve()
    assert "site-packages" in installed.parts, f"llama_models imported from {installed}"
    assert not installed.is_relative_to(REPO / "llama_models"), "imported the source tree"
    print(f"imported llama_models {llama_models.__version__} from {installed.parent}")

    with FakeLlamaAPI() as fake:
        blocking(fake)
        asyncio.run(asynchronous(fake))

    gc.collect()
    assert not unraisable, unraisable
    print(f"smoke OK {llama_models.__version__}")


if __name__ == "__main__":
    main()
