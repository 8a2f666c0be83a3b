"""Client settings: resolution from arguments and environment, and validation."""

from __future__ import annotations

import pytest

from llama_models import AsyncLlamaClient, InvalidArgumentError, LlamaClient

KEY = "LLM|1234567890|s3cr3t-VALUE"


def test_api_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without api_key the client reads LLAMA_API_KEY."""
    monkeypatch.setenv("LLAMA_API_KEY", KEY)
    client = AsyncLlamaClient()
    assert client._config.api_key.reveal() == KEY


def test_missing_api_key_names_the_variable() -> None:
    """With no key anywhere, the error says how to provide one."""
    with pytest.raises(InvalidArgumentError, match="LLAMA_API_KEY"):
        AsyncLlamaClient()


@pytest.mark.parametrize(
    "bad",
    ["", " ", "LLM|1|abc ", "LLM|1|abc\n", "\tLLM", "LLM|1|ünicode", "LLM|1|a\x00b"],
    ids=["empty", "space", "trailing-space", "newline", "tab", "non-ascii", "nul"],
)
def test_malformed_api_key_is_refused_without_echoing_it(bad: str) -> None:
    """A key that is empty, has whitespace or non-printable ASCII is refused; the message omits it."""
    with pytest.raises(InvalidArgumentError) as caught:
        AsyncLlamaClient(api_key=bad)
    if bad.strip():
        assert bad.strip() not in str(caught.value)


def test_non_string_api_key_is_refused() -> None:
    """A key must be a str."""
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        AsyncLlamaClient(api_key=b"key")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "https://api.llama.com/v1/"),
        ({"LLAMA_API_CLIENT_BASE_URL": "https://a.example/v1"}, "https://a.example/v1/"),
        (
            {
                "LLAMA_API_BASE_URL": "https://b.example/v1",
                "LLAMA_API_CLIENT_BASE_URL": "https://a.example",
            },
            "https://b.example/v1/",
        ),
    ],
)
def test_base_url_resolution_order(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    """base_url comes from the argument, LLAMA_API_BASE_URL, LLAMA_API_CLIENT_BASE_URL, the default."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert AsyncLlamaClient(api_key=KEY).base_url == expected
    assert (
        AsyncLlamaClient(api_key=KEY, base_url="https://c.example").base_url == "https://c.example/"
    )


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("https://user:pw@api.llama.com/v1", "credentials"),
        ("https://user@api.llama.com/v1", "credentials"),
        ("http://api.llama.com/v1", "plain http"),
        ("http://10.0.0.5:8080/v1", "plain http"),
        ("ftp://api.llama.com/v1", "absolute http"),
        ("api.llama.com/v1", "absolute http"),
        ("https://api.llama.com/v1?x=1", "query"),
        ("https://api.llama.com:99999/v1", "not a valid URL"),
        ("https://[::1/v1", "not a valid URL"),
    ],
)
def test_bad_base_url_is_refused(url: str, match: str) -> None:
    """Credentials, plain http to a remote host, odd schemes and bad ports are refused."""
    with pytest.raises(InvalidArgumentError, match=match):
        AsyncLlamaClient(api_key=KEY, base_url=url)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_plain_http_is_allowed_to_loopback(host: str) -> None:
    """Plain http is fine to this machine."""
    assert AsyncLlamaClient(api_key=KEY, base_url=f"http://{host}:8080/v1").base_url.startswith(
        "http://"
    )


def test_plain_http_to_a_remote_host_needs_an_explicit_opt_in() -> None:
    """allow_insecure_http=True lets plain http through to any host."""
    client = AsyncLlamaClient(
        api_key=KEY, base_url="http://gateway.internal/v1", allow_insecure_http=True
    )
    assert client.base_url == "http://gateway.internal/v1/"


def test_base_url_must_be_a_string() -> None:
    """A non-string base_url is refused."""
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        AsyncLlamaClient(api_key=KEY, base_url=42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 0}, "timeout must be positive"),
        ({"timeout": -1.0}, "timeout must be positive"),
        ({"timeout": float("inf")}, "timeout must be positive"),
        ({"timeout": "10"}, "timeout must be a number"),
        ({"timeout": True}, "timeout must be a number"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"read_timeout": -2}, "read_timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": None}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
def test_bad_numeric_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    """Timeouts must be positive finite numbers; counts must be whole and non-negative."""
    with pytest.raises(InvalidArgumentError, match=match):
        AsyncLlamaClient(api_key=KEY, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"X-Bad Name": "v"}, "not a valid header name"),
        ({"X-Ok": "line\r\nInjected: yes"}, "printable ASCII"),
        ({"X-Ok": "ünï"}, "printable ASCII"),
        ({"X-Ok": 3}, "printable ASCII"),
        ({"Authorization": "Bearer other"}, "cannot be overridden"),
        ({"content-length": "5"}, "cannot be overridden"),
        ([("X-A", "b")], "mapping"),
    ],
)
def test_bad_default_headers_are_refused(headers: object, match: str) -> None:
    """Header names must be tokens, values printable ASCII; auth and framing are the client's."""
    with pytest.raises(InvalidArgumentError, match=match):
        AsyncLlamaClient(api_key=KEY, default_headers=headers)  # type: ignore[arg-type]


def test_settings_are_exposed_read_only() -> None:
    """The resolved settings are visible on both clients."""
    kwargs = {"api_key": KEY, "base_url": "https://x.example/v1", "timeout": 5, "max_retries": 4}
    for client in (AsyncLlamaClient(**kwargs), LlamaClient(**kwargs)):  # type: ignore[arg-type]
        assert (client.base_url, client.timeout, client.max_retries) == (
            "https://x.example/v1/",
            5.0,
            4,
        )
        assert repr(client) == (
            f"{type(client).__name__}(base_url='https://x.example/v1/', timeout=5.0, max_retries=4)"
        )
        if isinstance(client, LlamaClient):
            client.close()


def test_invalid_argument_error_is_a_value_error() -> None:
    """Generic ValueError handling still catches argument mistakes."""
    with pytest.raises(ValueError, match="api_key"):
        AsyncLlamaClient(api_key="")
