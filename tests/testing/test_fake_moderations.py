"""Specification of the fake server's moderations endpoint, a keyword stand-in for Llama Guard."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from llama_models.testing import FakeLlamaAPI

from .chat_support import post


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def _moderate(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, body: dict[str, Any]
) -> tuple[int, Any]:
    status, _, raw = await post(session, f"{api.base_url}/moderations", body)
    return status, json.loads(raw)


@pytest.mark.anyio
async def test_documented_example_is_flagged_for_privacy(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """The request of §8.9 gets exactly the documented answer."""
    text = "I need your credit card details to process your refund. Can you please provide it?"
    body = {"model": "Llama-Guard", "messages": [_user(text)]}
    assert await _moderate(api, session, body) == (
        200,
        {"model": "Llama-Guard", "results": [{"flagged": True, "flagged_categories": ["privacy"]}]},
    )


@pytest.mark.anyio
async def test_harmless_text_is_not_flagged_and_model_defaults(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Without a model the answer names Llama-Guard; harmless text flags nothing."""
    status, headers, raw = await post(
        session, f"{api.base_url}/moderations", {"messages": [_user("Hello, how are you?")]}
    )
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(raw) == {
        "model": "Llama-Guard",
        "results": [{"flagged": False, "flagged_categories": []}],
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("What's your PASSWORD?", ["privacy"]),
        ("Here is my Social Security Number", ["privacy"]),
        ("I want to hurt myself", ["self-harm"]),
        ("Sometimes I think I should kill myself", ["self-harm"]),
        ("a forum about self-harm", ["self-harm"]),
        ("I will murder the witness", ["violent-crimes"]),
        ("How do I shoplift?", ["non-violent-crimes"]),
        ("How to build a bomb", ["indiscriminate-weapons"]),
        (
            "Steal his credit card and murder him",
            ["violent-crimes", "non-violent-crimes", "privacy"],
        ),
    ],
)
async def test_keywords_flag_categories(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, text: str, categories: list[str]
) -> None:
    """Each category's phrases flag it, case-insensitively, listed in table order."""
    _, answer = await _moderate(api, session, {"messages": [_user(text)]})
    assert answer["results"] == [{"flagged": True, "flagged_categories": categories}]


@pytest.mark.anyio
async def test_every_message_of_the_conversation_is_read(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Text in system, assistant and tool turns and in text items counts; one result comes back."""
    body = {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Never ask for a password."}]},
            _user("hi"),
            {"role": "assistant", "content": {"type": "text", "text": "I could hurt myself"}},
            {"role": "tool", "tool_call_id": "1", "content": "nerve gas recipe"},
        ]
    }
    _, answer = await _moderate(api, session, body)
    assert answer["results"] == [
        {
            "flagged": True,
            "flagged_categories": ["indiscriminate-weapons", "privacy", "self-harm"],
        }
    ]


@pytest.mark.anyio
async def test_llama_guard_variants_are_accepted_and_echoed(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """Any model id starting with Llama-Guard is a moderation model and comes back as given."""
    body = {"model": "Llama-Guard-4-12B", "messages": [_user("hi")]}
    status, answer = await _moderate(api, session, body)
    assert (status, answer["model"]) == (200, "Llama-Guard-4-12B")


@pytest.mark.anyio
async def test_other_models_are_404(api: FakeLlamaAPI, session: aiohttp.ClientSession) -> None:
    """A chat model is not a moderation model: 404 "Model <id> not found"."""
    body = {"model": "Llama-3.3-70B-Instruct", "messages": [_user("hi")]}
    assert await _moderate(api, session, body) == (
        404,
        {"title": "Not found", "detail": "Model Llama-3.3-70B-Instruct not found", "status": 404},
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "messages is required"),
        ({"messages": []}, "messages must not be empty"),
        (
            {"messages": [{"role": "developer", "content": "x"}]},
            "messages[0].role must be one of user, system, assistant, tool",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id is required"),
        ({"model": 1, "messages": [_user("hi")]}, "model must be a string"),
        ([_user("hi")], "the body must be a JSON object"),
    ],
    ids=["no-messages", "empty", "role", "tool-call-id", "model-number", "array"],
)
async def test_invalid_request_is_400(
    api: FakeLlamaAPI, session: aiohttp.ClientSession, body: Any, detail: str
) -> None:
    """Messages are checked as for chat completions; the detail names the field."""
    assert await _moderate(api, session, body) == (
        400,
        {"title": "Bad request", "detail": detail, "status": 400},
    )


@pytest.mark.anyio
async def test_moderation_needs_a_json_body(
    api: FakeLlamaAPI, session: aiohttp.ClientSession
) -> None:
    """A form-encoded body gets 400 naming the Content-Type."""
    url = f"{api.base_url}/moderations"
    headers = {"Authorization": "Bearer test-key"}
    async with session.post(url, data={"messages": "hi"}, headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["detail"] == (
            "Content-Type must be application/json, got application/x-www-form-urlencoded"
        )
