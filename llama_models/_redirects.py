"""Redirects as pure functions: where to go, and what may be carried there."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from ._protocol import find_request_id
from .errors import APIStatusError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def redirect_target(
    status: int, headers: Mapping[str, str], url: str, method: str
) -> tuple[str, str] | None:
    """Where a redirect response points and with which method, or ``None``.

    303, and 301/302 after a non-GET, turn into a GET without a body, as
    browsers do; 307 and 308 keep the method and body.
    """
    if status not in REDIRECT_STATUSES:
        return None
    location = headers.get("location")
    if not location:
        return None
    target = urljoin(url, location)
    if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
        method = "GET"
    return target, method


def origin(url: str) -> tuple[str, str, int | None]:
    """The (scheme, host, port) of *url*, with default ports made explicit."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def follow_redirect(
    status: int,
    response_headers: Mapping[str, str],
    url: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    target: tuple[str, str],
) -> tuple[str, str, Mapping[str, str], bytes | None]:
    """The next request after a redirect: (url, method, headers, body).

    A method change drops the body and its Content-Type. Another origin never
    gets the ``Authorization`` header, and a redirect that would carry a body to
    another origin, leave https, or leave http(s) altogether is refused with an
    `APIStatusError` for the redirect response.
    """
    new_url, new_method = target
    here, there = origin(url), origin(new_url)
    if new_method != method:
        body = None
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    refusal = None
    if there[0] not in ("http", "https"):
        refusal = "it is not an http(s) URL"
    elif here[0] == "https" and there[0] == "http":
        refusal = "it leaves https"
    elif here != there and body is not None:
        refusal = "it would send the request body to another origin"
    if refusal:
        raise APIStatusError(
            f"refusing to follow the {status} redirect to {new_url}: {refusal}",
            status_code=status,
            body=None,
            headers=response_headers,
            request_id=find_request_id(response_headers),
            method=method,
            url=url,
        )
    if here != there:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return new_url, new_method, headers, body
