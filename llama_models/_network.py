"""Network settings of a client: an explicit proxy, and the certificates to trust.

Both are checked when the client is made, so a typo in a proxy URL or a CA
bundle that does not exist fails at once, not at the first call. Nothing here
imports aiohttp; `ssl` is imported only when a CA bundle is given.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import InvalidArgumentError

if TYPE_CHECKING:
    import ssl

__all__ = ["ssl_context", "validate_proxy"]


def validate_proxy(proxy: object) -> str | None:
    """An explicit proxy URL (``http://`` or ``https://``), or ``None`` for ``False`` (no proxy).

    The message never shows the URL, which may carry the proxy's password.
    """
    if proxy is False:
        return None
    if not isinstance(proxy, str):
        raise InvalidArgumentError(
            f"proxy must be a URL such as 'http://proxy:3128', False for none, or None to "
            f"read the environment, not {type(proxy).__name__}"
        )
    try:
        parts = urlsplit(proxy.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the validation
    except ValueError:
        raise InvalidArgumentError("proxy is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidArgumentError(
            "proxy must be an absolute http:// or https:// URL such as 'http://proxy:3128'"
        )
    return proxy.strip()


def ssl_context(value: object) -> ssl.SSLContext:
    """The TLS context for *value*: an `ssl.SSLContext` as it is, or one trusting a CA bundle.

    A CA bundle (a PEM file path) replaces the system's certificates, as
    ``REQUESTS_CA_BUNDLE`` and ``SSL_CERT_FILE`` do for other clients; to add a
    corporate CA to the system's, build the context yourself and call
    ``load_verify_locations`` on it.
    """
    import ssl

    if isinstance(value, ssl.SSLContext):
        return value
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike):
        raise InvalidArgumentError(
            "ssl must be an ssl.SSLContext or the path of a CA bundle (PEM), "
            f"not {type(value).__name__}"
        )
    path: Any = os.fspath(value)
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"ssl: the CA bundle {path!r} is not a file")
    try:
        return ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise InvalidArgumentError(
            f"ssl: the CA bundle {path!r} could not be loaded: {exc}"
        ) from None
