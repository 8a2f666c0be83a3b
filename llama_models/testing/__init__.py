"""A fake Llama API server for testing code that talks to the Llama API.

`FakeLlamaAPI` serves the real wire format on a loopback port, records every request it
receives, answers chat completions (whole or streamed) with scripted `ChatReply` values or
a deterministic default, and misbehaves on cue with a `Fault` — HTTP errors, rate
limiting, slow or stalled responses, dropped connections, broken JSON, redirects, streams
that fail, break off or stall::

    from llama_models.testing import ChatReply, FakeLlamaAPI, Fault

    async with FakeLlamaAPI() as api:
        api.enqueue(Fault.rate_limited(retry_after="1"))
        api.enqueue_replies(ChatReply.text("Hello!", chunk_size=2))
        ...  # point a client at api.base_url with api.api_key

With ``FakeLlamaAPI(rate_limit=RateLimitRule(requests=10, window=3.0))`` it enforces a
per-model limit on chat completions as the hosted API does, and counts what it admitted
and refused in `FakeLlamaAPI.rate_limit_stats` (`RateLimitStats`).

pytest users get a ready-made ``fake_llama_api`` fixture from
``pytest_plugins = ["llama_models.testing.pytest_plugin"]``. Run
``python -m llama_models.testing`` to serve the fake from the command line.
"""

from ._faults import Fault
from ._limits import RateLimitRule, RateLimitStats
from ._recording import RecordedRequest
from ._replies import ChatReply, ScriptedToolCall
from ._server import FakeLlamaAPI
from ._uploads import UploadedFile

__all__ = [
    "ChatReply",
    "FakeLlamaAPI",
    "Fault",
    "RateLimitRule",
    "RateLimitStats",
    "RecordedRequest",
    "ScriptedToolCall",
    "UploadedFile",
]
