"""The part loop of ``uploads.upload_file``: send in order, resume from the server's offset.

A part's answer can be lost after the server stored it, or the part can be lost
before; only the server knows which. So after a failed part the loop asks the
server for its offset and goes on from there, never from its own count. The
HTTP calls are passed in, so the loop knows nothing of requests or paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .._protocol import invalid_response
from .._retry import status_is_retryable
from ..errors import APIConnectionError, APIError, APIResponseValidationError, APIStatusError
from ..types.response import APIResponse
from ..types.uploads import UploadPart, UploadStatus
from ._source import FileSource

__all__ = ["ProgressCallback", "send_parts"]

ProgressCallback = Callable[[int, int], object]


async def send_parts(
    source: FileSource,
    upload_id: str,
    *,
    send: Callable[[bytes, int], Awaitable[APIResponse[UploadPart]]],
    status: Callable[[], Awaitable[APIResponse[UploadStatus]]],
    part_size: int,
    max_resumes: int,
    report: ProgressCallback,
) -> str:
    """Send *source* to the session *upload_id*; return the file id of the finished file.

    ``send(chunk, offset)`` sends one part, ``status()`` asks for the session's
    offset, and ``report(sent, total)`` hears of every change in the server's count.
    """
    total = source.size
    sent = 0  # bytes the server has confirmed
    failures = 0  # failed parts since the server's offset last moved forward
    report(0, total)
    while True:
        chunk = await source.read(sent, min(part_size, total - sent))
        try:
            answer = await send(chunk, sent)
        except (APIConnectionError, APIStatusError) as exc:
            if not _resumable(exc) or failures >= max_resumes:
                raise
            failures += 1
            offset = _checked_offset(await status(), total)
            if offset == total:
                raise _lost_file_id(upload_id, exc) from exc
            if offset > sent:
                failures = 0
            if offset != sent:
                sent = offset
                report(sent, total)
            continue
        if answer.data.file_id is not None:
            report(total, total)
            return answer.data.file_id
        sent = _next_offset(answer, sent, len(chunk), total)
        failures = 0
        report(sent, total)


def _resumable(exc: APIError) -> bool:
    """Whether a failed part may be followed by a resume from the server's offset.

    A part that carries its offset is safe to send again, since the server
    refuses a duplicate with 409 rather than storing it twice. So a failed part
    is treated like a failed GET: resumed after a lost connection or a timeout,
    and after the statuses a GET is retried on (408, 409, 429, 5xx, unless the
    server says ``x-should-retry: false``).
    """
    if isinstance(exc, APIStatusError):
        return status_is_retryable("GET", exc.status_code, exc.headers)
    return isinstance(exc, APIConnectionError)


def _checked_offset(response: APIResponse[UploadStatus], total: int) -> int:
    """The server's offset from a status answer, which must lie within the file."""
    # A server that does not say holds nothing usable: start again from the top.
    offset = 0 if response.data.offset is None else response.data.offset
    if 0 <= offset <= total:
        return offset
    upload_id = response.data.upload_id
    raise _invalid(
        response,
        f"upload {upload_id}: the server reports offset {offset} in a file of {total} bytes",
        {"upload_id": upload_id, "offset": offset},
    )


def _next_offset(answer: APIResponse[UploadPart], sent: int, length: int, total: int) -> int:
    """Where the next part starts, from the answer to a part that did not finish the file."""
    part = answer.data
    offset = sent + length if part.offset is None else part.offset
    if sent < offset < total:
        return offset
    if offset == total:
        problem = "took the last byte but named no file_id"
    else:
        problem = f"moved the offset from {sent} to {offset} in a file of {total} bytes"
    raise _invalid(
        answer,
        f"upload {part.upload_id}: the answer to a part {problem}",
        {"upload_id": part.upload_id, "offset": part.offset, "file_id": part.file_id},
    )


def _invalid(
    response: APIResponse[UploadPart] | APIResponse[UploadStatus], message: str, body: object
) -> APIResponseValidationError:
    return invalid_response(message, response.status_code, response.headers, body)


def _lost_file_id(upload_id: str, cause: APIError) -> APIError:
    return APIError(
        f"upload {upload_id}: the server holds every byte, but the answer naming the file id "
        f"was lost ({cause}); the API cannot look it up, so upload the file again",
        method=cause.method,
        url=cause.url,
    )
