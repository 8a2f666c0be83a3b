"""The pure protocol functions: request paths, errors, Retry-After, retries and redirects."""

from __future__ import annotations

import email.utils

import pytest

from llama_models import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RateLimitInfo,
    UnprocessableEntityError,
)
from llama_models import _protocol as proto
from llama_models import _redirects as redirects
from llama_models import _retry as policy

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("model_id", "segment"),
    [
        ("Llama-3.3-70B-Instruct", "Llama-3.3-70B-Instruct"),
        ("org/model-x", "org%2Fmodel-x"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("../secrets", "..%2Fsecrets"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_path_segment_encodes_one_segment(model_id: str, segment: str) -> None:
    """An id is percent-encoded so that it can never span or escape a path segment."""
    assert proto.path_segment(model_id, "model") == segment


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_path_segment_refuses_empty_and_dot_segments(bad: str) -> None:
    """The empty id and the dot segments are refused with a typed error."""
    with pytest.raises(InvalidArgumentError, match="non-empty id"):
        proto.path_segment(bad, "model")


def test_path_segment_refuses_non_strings() -> None:
    """A non-string id is refused, not converted."""
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        proto.path_segment(42, "model")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "10"}, 0.01),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "nan", "retry-after": "3"}, 3.0),
        ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """retry-after-ms wins over Retry-After, which may be seconds or an HTTP date."""
    assert policy.parse_retry_after(headers, NOW) == pytest.approx(expected)


def test_parse_retry_after_ignores_dates_without_zone() -> None:
    """An HTTP date without a time zone is not an HTTP date and is ignored."""
    assert policy.parse_retry_after({"retry-after": "Wed, 25 Nov 2026 10:00:00"}, NOW) is None


@pytest.mark.parametrize(
    ("retries", "jitter", "delay"),
    [(0, 0.0, 0.5), (1, 0.0, 1.0), (2, 0.0, 2.0), (4, 0.0, 8.0), (9, 0.0, 8.0), (0, 1.0, 0.375)],
)
def test_backoff_doubles_from_half_a_second_to_eight(
    retries: int, jitter: float, delay: float
) -> None:
    """Backoff is 0.5 s doubling to a cap of 8 s, shortened by up to 25 % jitter."""
    assert policy.backoff_delay(retries, jitter) == pytest.approx(delay)


def _plan(**overrides: float | int | None) -> float | None:
    args: dict[str, float | int | None] = {
        "retries_made": 0,
        "max_retries": 2,
        "server_wait": None,
        "remaining": 100.0,
        "jitter": 0.0,
    }
    args.update(overrides)
    return policy.plan_retry(**args)  # type: ignore[arg-type]


def test_plan_retry_uses_backoff_without_server_wait() -> None:
    """Without a server-requested wait the backoff applies."""
    assert _plan(retries_made=1) == pytest.approx(1.0)


def test_plan_retry_honours_server_wait() -> None:
    """A server-requested wait within the cap and the deadline is used as given."""
    assert _plan(server_wait=3.0) == pytest.approx(3.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"retries_made": 2},
        {"server_wait": policy.MAX_SERVER_WAIT + 1},
        {"server_wait": 5.0, "remaining": 4.0},
        {"remaining": 0.1},
    ],
    ids=["retries-spent", "wait-over-cap", "wait-past-deadline", "backoff-past-deadline"],
)
def test_plan_retry_gives_up(overrides: dict[str, float]) -> None:
    """No retry when retries are spent or a wait would pass the cap or the deadline."""
    assert _plan(**overrides) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_get_retries_transient_statuses(status: int) -> None:
    """GET retries 408, 409, 429 and 5xx."""
    assert policy.status_is_retryable("GET", status, {})


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_get_does_not_retry_client_errors(status: int) -> None:
    """GET does not retry a client error."""
    assert not policy.status_is_retryable("GET", status, {})


@pytest.mark.parametrize(
    ("status", "retry"), [(429, True), (500, False), (503, False), (408, False)]
)
def test_post_retries_only_what_the_server_did_not_act_on(status: int, retry: bool) -> None:
    """A POST costs money: only 429 is retried without a hint from the server."""
    assert policy.status_is_retryable("POST", status, {}) is retry


def test_x_should_retry_overrides_the_status() -> None:
    """x-should-retry: true retries anything; false retries nothing."""
    assert policy.status_is_retryable("POST", 500, {"x-should-retry": "true"})
    assert policy.status_is_retryable("GET", 400, {"x-should-retry": "true"})
    assert not policy.status_is_retryable("GET", 503, {"x-should-retry": "false"})


@pytest.mark.parametrize(
    ("method", "stage", "retry"),
    [
        ("GET", policy.Stage.BEFORE_SEND, True),
        ("GET", policy.Stage.AFTER_SEND, True),
        ("GET", policy.Stage.LOCAL, False),
        ("POST", policy.Stage.BEFORE_SEND, True),
        ("POST", policy.Stage.AFTER_SEND, False),
        ("POST", policy.Stage.LOCAL, False),
    ],
)
def test_failure_retry_policy(method: str, stage: policy.Stage, retry: bool) -> None:
    """A failed POST is resent only if nothing reached the server; local mistakes never are."""
    assert policy.failure_is_retryable(method, stage) is retry


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
        (408, APIStatusError),
    ],
)
def test_status_error_class_per_status(status: int, cls: type[APIStatusError]) -> None:
    """Each documented status has its own exception class; others are APIStatusError."""
    error = proto.status_error(status, {}, b"", method="GET", url="u", now=NOW)
    assert type(error) is cls
    assert error.status_code == status


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"message": "m", "detail": "d"}', "m"),
        (
            b'{"title": "Not found", "detail": "Model nope not found", "status": 404}',
            "Model nope not found",
        ),
        (b'{"title": "Unauthorized", "status": 401}', "Unauthorized"),
        (b'{"error": {"message": "nested"}}', "nested"),
        (b'{"error": "flat"}', "flat"),
        (b"plain text failure", "plain text failure"),
        (b"", "Not Found"),
        (b"[1, 2]", "Not Found"),
    ],
)
def test_status_error_message_comes_from_the_body(body: bytes, message: str) -> None:
    """The message is the body's message, detail, title or error, else the reason phrase."""
    error = proto.status_error(404, {}, body, method="GET", url="u", now=NOW)
    assert error.message == message


def test_status_error_keeps_a_bounded_excerpt_of_a_non_json_body() -> None:
    """A huge non-JSON body is kept as a bounded excerpt."""
    error = proto.status_error(500, {}, b"x" * 100_000, method="GET", url="u", now=NOW)
    assert isinstance(error.body, str)
    assert len(error.body) <= proto.BODY_EXCERPT_CHARS + 1


def test_unknown_status_without_reason_phrase() -> None:
    """A status with no reason phrase still gets a message."""
    error = proto.status_error(599, {}, b"", method="GET", url="u", now=NOW)
    assert error.message == "HTTP status 599"


def test_rate_limit_error_carries_retry_after_and_limits() -> None:
    """A 429 carries the requested wait and the parsed x-ratelimit-* headers."""
    headers = {
        "retry-after": "2",
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-limit-tokens": "250000",
        "x-ratelimit-remaining-tokens": "0",
        "x-request-id": "req_1",
    }
    error = proto.status_error(429, headers, b"", method="GET", url="u", now=NOW)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.0
    assert error.request_id == "req_1"
    assert error.rate_limit == RateLimitInfo(
        limit_requests=10, remaining_requests=0, limit_tokens=250000, remaining_tokens=0
    )
    assert str(error) == "429: Too Many Requests (request id req_1)"


def test_parse_rate_limit_tolerates_partial_and_bad_headers() -> None:
    """Missing or non-numeric rate-limit headers become None; none at all is None."""
    info = proto.parse_rate_limit(
        {"x-ratelimit-limit-tokens": "5", "x-ratelimit-remaining-tokens": "x"}
    )
    assert info == RateLimitInfo(limit_tokens=5)
    assert proto.parse_rate_limit({}) is None


@pytest.mark.parametrize(
    ("status", "method", "location", "expected"),
    [
        (307, "POST", "/v1/b", ("http://h/v1/b", "POST")),
        (308, "GET", "http://other/x", ("http://other/x", "GET")),
        (303, "POST", "/c", ("http://h/c", "GET")),
        (302, "POST", "/c", ("http://h/c", "GET")),
        (301, "GET", "c", ("http://h/v1/c", "GET")),
        (200, "GET", "/x", None),
        (307, "GET", "", None),
    ],
)
def test_redirect_target(
    status: int, method: str, location: str, expected: tuple[str, str] | None
) -> None:
    """307/308 keep the method; 303, and 301/302 after a POST, become a GET."""
    headers = {"location": location} if location else {}
    assert redirects.redirect_target(status, headers, "http://h/v1/a", method) == expected


def test_origin_makes_default_ports_explicit() -> None:
    """Two spellings of the same origin compare equal."""
    assert redirects.origin("https://API.llama.com/v1") == redirects.origin(
        "https://api.llama.com:443/x"
    )
    assert redirects.origin("http://h/") != redirects.origin("https://h/")
