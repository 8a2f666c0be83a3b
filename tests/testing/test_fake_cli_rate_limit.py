"""``python -m llama_models.testing --rpm N --tpm N --window S``: an enforced rate limit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from llama_models.testing import RateLimitRule
from llama_models.testing.__main__ import _parse_args, describe_rule

#: Bounds a wait that a regression would turn into a hang; nothing is timed against it.
HANG = 30


@pytest.mark.parametrize(
    ("argv", "rule"),
    [
        ([], None),
        (["--rpm", "10"], RateLimitRule(requests=10)),
        (["--tpm", "500", "--window", "3"], RateLimitRule(tokens=500, window=3.0)),
        (["--retry-after"], RateLimitRule(retry_after=True)),
        (
            ["--rpm", "60", "--tpm", "1000", "--window", "0.5"],
            RateLimitRule(requests=60, tokens=1000, window=0.5),
        ),
    ],
    ids=str,
)
def test_flags_build_the_rule(argv: list[str], rule: RateLimitRule | None) -> None:
    """Any rate-limit flag makes a rule, the rest keep its defaults; no flag, no rule."""
    assert _parse_args(argv).rate_limit == rule


@pytest.mark.parametrize(
    "argv", [["--rpm", "0"], ["--tpm", "-1"], ["--window", "0"], ["--window", "nan"]], ids=str
)
def test_bad_flags_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Limits below one and windows that are not finite and positive end with a usage error."""
    with pytest.raises(SystemExit) as caught:
        _parse_args(argv)
    assert caught.value.code == 2
    assert argv[0] in capsys.readouterr().err


def _chat(base_url: str) -> tuple[int, dict[str, str], object]:
    body = {"model": "Llama-3.3-70B-Instruct", "messages": [{"role": "user", "content": "Hi"}]}
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HANG) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def test_the_served_fake_enforces_the_flags() -> None:
    """The second line states the rule, and the second chat completion in a window gets 429."""
    command = [sys.executable, "-m", "llama_models.testing", "--rpm", "1", "--window", "600"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().removeprefix("serving on ").strip()
            assert process.stdout.readline() == (
                "Rate limit per model: 1 requests and 2500000 tokens in any 600 s.\n"
            )
            first, second = _chat(base_url), _chat(base_url)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=HANG)
        finally:
            if process.poll() is None:
                process.kill()
    assert (first[0], first[1]["x-ratelimit-remaining-requests"]) == (200, "0")
    assert (second[0], second[2]) == (
        429,
        {
            "title": "Too Many Requests",
            "detail": "You have exceeded the maximum number of requests allowed within a "
            "given time frame. Wait a bit and try again.",
            "status": 429,
        },
    )
    assert "Retry-After" not in second[1]


def test_the_rule_line_mentions_retry_after_when_sent() -> None:
    """The description of a rule that sends Retry-After says so."""
    rule = RateLimitRule(requests=10, tokens=250_000, window=3.0, retry_after=True)
    assert describe_rule(rule) == (
        "Rate limit per model: 10 requests and 250000 tokens in any 3 s, with Retry-After."
    )
