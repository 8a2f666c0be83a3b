"""Tests of the fake Llama API server, `llama_models.testing`."""
