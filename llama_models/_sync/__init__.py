"""`LlamaClient`: the blocking facade over `AsyncLlamaClient`.

Every method is a one-line call into the client's `Portal` and has the same
signature and docstring as its async twin (a test compares them). One module
per resource, mirroring `llama_models._resources`.
"""

from ._client import LlamaClient

__all__ = ["LlamaClient"]
