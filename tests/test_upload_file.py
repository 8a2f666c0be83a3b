"""uploads.upload_file: a file from disk in parts, resumed from the server's offset after failures."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from upload_support import form_fields

from llama_models import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    AsyncLlamaClient,
    BadRequestError,
    InternalServerError,
    InvalidArgumentError,
    LlamaClient,
)
from llama_models._resources._source import guess_mime_type
from llama_models.testing import FakeLlamaAPI, Fault, UploadedFile

pytestmark = pytest.mark.anyio

DATA = b"0123456789"
PARTS = {"method": "POST", "path": "/v1/uploads/*"}


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    """A ten-byte file named train.jsonl."""
    path = tmp_path / "train.jsonl"
    path.write_bytes(DATA)
    return path


def exchanges(server: FakeLlamaAPI) -> list[tuple[str, str | None]]:
    """Method and X-Upload-Offset of each request after the one that created the session."""
    return [(r.method, r.headers.get("X-Upload-Offset")) for r in server.requests[1:]]


def stored(server: FakeLlamaAPI, file_id: str) -> bytes:
    """The bytes the server holds for *file_id*."""
    return server.files[file_id].data


async def test_a_file_goes_up_in_parts_with_progress(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """Parts of part_size bytes go up in order, each with its offset, and progress is reported."""
    progress: list[tuple[int, int]] = []
    file_id = await client.uploads.upload_file(
        jsonl,
        purpose="messages_finetune",
        part_size=4,
        on_progress=lambda sent, total: progress.append((sent, total)),
    )
    assert server.files == {
        file_id: UploadedFile("train.jsonl", "application/jsonl", "messages_finetune", DATA)
    }
    assert server.requests[0].json() == {
        "bytes": 10,
        "filename": "train.jsonl",
        "mime_type": "application/jsonl",
        "purpose": "messages_finetune",
    }
    assert exchanges(server) == [("POST", "0"), ("POST", "4"), ("POST", "8")]
    assert [form_fields(r) for r in server.requests[1:]] == [
        [("data", "train.jsonl", "application/octet-stream", chunk)]
        for chunk in (b"0123", b"4567", b"89")
    ]
    assert progress == [(0, 10), (4, 10), (8, 10), (10, 10)]


async def test_name_and_type_can_be_given(
    client: AsyncLlamaClient, server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """filename and mime_type override the file's own name and the guess; one part suffices."""
    path = tmp_path / "blob.bin"
    path.write_bytes(b"hello")
    file_id = await client.uploads.upload_file(
        str(path), purpose="attachment", filename="notes.txt", mime_type="text/plain"
    )
    assert server.files[file_id] == UploadedFile("notes.txt", "text/plain", "attachment", b"hello")
    assert exchanges(server) == [("POST", "0")]


async def test_a_lost_answer_is_not_followed_by_the_same_part_again(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """When a stored part's answer is lost, the server's offset says so and the part is not resent."""
    server.enqueue(Fault.delay(0), Fault.drop_after_handling(), **PARTS)
    progress: list[int] = []
    file_id = await client.uploads.upload_file(
        jsonl, purpose="metadata", part_size=4, on_progress=lambda sent, _: progress.append(sent)
    )
    assert stored(server, file_id) == DATA
    assert exchanges(server) == [("POST", "0"), ("POST", "4"), ("GET", None), ("POST", "8")]
    assert progress == [0, 4, 8, 10]


@pytest.mark.parametrize(
    "fault",
    [Fault.drop(), Fault.error(503), Fault.error(408)],
    ids=["dropped", "503", "408"],
)
async def test_a_part_the_server_did_not_store_is_sent_again(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path, fault: Fault
) -> None:
    """After a part is lost on the way, the server's offset sends it again."""
    server.enqueue(Fault.delay(0), fault, **PARTS)
    file_id = await client.uploads.upload_file(jsonl, purpose="metadata", part_size=4)
    assert stored(server, file_id) == DATA
    assert exchanges(server) == [
        ("POST", "0"),
        ("POST", "4"),
        ("GET", None),
        ("POST", "4"),
        ("POST", "8"),
    ]


async def test_a_timed_out_part_is_resumed(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """A part that runs out of its timeout is resumed like a dropped one."""
    server.enqueue(Fault.stall(), **PARTS)
    file_id = await client.uploads.upload_file(jsonl, purpose="metadata", timeout=0.3)
    assert stored(server, file_id) == DATA
    assert exchanges(server) == [("POST", "0"), ("GET", None), ("POST", "0")]


async def test_an_offset_conflict_resumes_from_the_server_offset(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """A 409 for a part at the wrong offset sends the file again from where the server is."""
    # The first part is answered as if stored, but it was not: the next part conflicts.
    server.enqueue(Fault.respond(200, json={"upload_id": "upload_x", "offset": 4}), **PARTS)
    progress: list[int] = []
    file_id = await client.uploads.upload_file(
        jsonl, purpose="metadata", part_size=4, on_progress=lambda sent, _: progress.append(sent)
    )
    assert stored(server, file_id) == DATA
    assert exchanges(server) == [
        ("POST", "0"),
        ("POST", "4"),
        ("GET", None),
        ("POST", "0"),
        ("POST", "4"),
        ("POST", "8"),
    ]
    assert progress == [0, 4, 0, 4, 8, 10]


@pytest.mark.parametrize("max_resumes", [0, 1, 3])
async def test_gives_up_after_max_resumes_failures_without_progress(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path, max_resumes: int
) -> None:
    """After max_resumes resumed failures in a row, the next failure is raised."""
    server.enqueue(*[Fault.drop()] * (max_resumes + 1), **PARTS)
    with pytest.raises(APIConnectionError):
        await client.uploads.upload_file(jsonl, purpose="metadata", max_resumes=max_resumes)
    assert exchanges(server) == [("POST", "0"), *[("GET", None), ("POST", "0")] * max_resumes]
    assert server.files == {}


async def test_progress_resets_the_failure_count(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """Failures count only in a row: one failure per part passes with max_resumes=1."""
    server.enqueue(Fault.drop(), Fault.delay(0), Fault.drop(), **PARTS)
    file_id = await client.uploads.upload_file(
        jsonl, purpose="metadata", part_size=5, max_resumes=1
    )
    assert stored(server, file_id) == DATA
    assert [method for method, _ in exchanges(server)] == ["POST", "GET", "POST"] * 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.error(400), BadRequestError),
        (Fault.error(503, headers={"x-should-retry": "false"}), InternalServerError),
    ],
)
async def test_other_failures_are_raised_at_once(
    client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    jsonl: Path,
    fault: Fault,
    error: type[Exception],
) -> None:
    """A part refused for good (a 400, or x-should-retry: false) ends the upload without a resume."""
    server.enqueue(fault, **PARTS)
    with pytest.raises(error):
        await client.uploads.upload_file(jsonl, purpose="metadata")
    assert exchanges(server) == [("POST", "0")]


async def test_a_lost_answer_to_the_last_part_is_a_clear_error(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """When the answer naming the file id is lost, the error says the file must go up again."""
    server.enqueue(Fault.drop_after_handling(), **PARTS)
    with pytest.raises(APIError, match="upload the file again") as caught:
        await client.uploads.upload_file(jsonl, purpose="metadata")
    assert isinstance(caught.value.__cause__, APIConnectionError)
    assert exchanges(server) == [("POST", "0"), ("GET", None)]
    assert len(server.files) == 1


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        ([(Fault.respond(200, json={"upload_id": "u", "offset": 0}), PARTS)], "from 0 to 0"),
        ([(Fault.respond(200, json={"upload_id": "u", "offset": 10}), PARTS)], "no file_id"),
        (
            [
                (Fault.drop(), PARTS),
                (Fault.respond(200, json={"upload_id": "u", "offset": 11}), {"method": "GET"}),
            ],
            "reports offset 11 in a file of 10 bytes",
        ),
    ],
    ids=["no-progress", "no-file-id", "offset-past-the-end"],
)
async def test_answers_that_make_no_sense_are_validation_errors(
    client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    jsonl: Path,
    faults: list[tuple[Fault, dict[str, str]]],
    problem: str,
) -> None:
    """An offset that does not move forward, or lies outside the file, stops the upload."""
    for fault, where in faults:
        server.enqueue(fault, **where)
    with pytest.raises(APIResponseValidationError, match=problem) as caught:
        await client.uploads.upload_file(jsonl, purpose="metadata")
    assert caught.value.status_code == 200


@pytest.mark.parametrize("change", [b"more", None], ids=["grows", "shrinks"])
async def test_a_file_that_changes_size_stops_before_the_next_part(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path, change: bytes | None
) -> None:
    """A file that grows or shrinks mid-upload raises InvalidArgumentError and sends no more parts."""

    def meddle(sent: int, total: int) -> None:
        if sent == 4:
            if change is None:
                os.truncate(jsonl, 6)
            else:
                with jsonl.open("ab") as file:
                    file.write(change)

    with pytest.raises(InvalidArgumentError, match="changed size"):
        await client.uploads.upload_file(jsonl, purpose="metadata", part_size=4, on_progress=meddle)
    assert exchanges(server) == [("POST", "0")]


async def test_an_exception_from_on_progress_abandons_the_upload(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """on_progress raising stops the upload with that exception."""

    def stop(sent: int, total: int) -> None:
        if sent:
            raise KeyError("enough")

    with pytest.raises(KeyError, match="enough"):
        await client.uploads.upload_file(jsonl, purpose="metadata", part_size=4, on_progress=stop)
    assert exchanges(server) == [("POST", "0")]


@pytest.mark.parametrize(
    ("name", "kwargs", "named"),
    [
        ("missing.jsonl", {}, "no such file"),
        (".", {}, "not a regular file"),
        ("empty.jsonl", {}, "is empty"),
        ("data.bin", {}, "mime_type"),
        ("train.jsonl", {"mime_type": "image/bmp"}, "mime_type"),
        ("train.jsonl", {"purpose": "training"}, "purpose"),
        ("train.jsonl", {"part_size": 0}, "part_size"),
        ("train.jsonl", {"part_size": 1.5}, "part_size"),
        ("train.jsonl", {"max_resumes": -1}, "max_resumes"),
        ("train.jsonl", {"on_progress": "print"}, "on_progress"),
        ("train.jsonl", {"filename": ""}, "filename"),
        ("train.jsonl", {"timeout": -1}, "timeout"),
        ("train.jsonl", {"extra_headers": {"X-Bad": "a\nb"}}, "extra_headers"),
    ],
)
async def test_bad_input_fails_before_any_request(
    client: AsyncLlamaClient,
    server: FakeLlamaAPI,
    tmp_path: Path,
    name: str,
    kwargs: dict[str, Any],
    named: str,
) -> None:
    """Every argument and the file itself are checked before the session is created."""
    for existing, content in (("empty.jsonl", b""), ("data.bin", DATA), ("train.jsonl", DATA)):
        (tmp_path / existing).write_bytes(content)
    with pytest.raises(InvalidArgumentError, match=named):
        await client.uploads.upload_file(
            tmp_path / name, **{"purpose": "messages_finetune", **kwargs}
        )
    assert server.requests == []


async def test_a_path_must_be_a_path(client: AsyncLlamaClient, server: FakeLlamaAPI) -> None:
    """A path that is neither a str nor os.PathLike is refused before any request."""
    with pytest.raises(InvalidArgumentError, match=r"path must be a str or os\.PathLike"):
        await client.uploads.upload_file(42, purpose="metadata")  # type: ignore[arg-type]
    assert server.requests == []


async def test_a_bytes_path_works_too(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """A path given as bytes is decoded like the operating system would."""
    path: Any = os.fsencode(jsonl)  # not in the signature, but os.fspath accepts it
    file_id = await client.uploads.upload_file(path, purpose="metadata")
    assert server.files[file_id].filename == "train.jsonl"


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() == 0, reason="needs file permissions that bind"
)
async def test_an_unreadable_file_is_refused(
    client: AsyncLlamaClient, server: FakeLlamaAPI, jsonl: Path
) -> None:
    """A file that cannot be opened is refused before any request, with the reason."""
    jsonl.chmod(0)
    with pytest.raises(InvalidArgumentError, match=r"cannot read .*Permission denied"):
        await client.uploads.upload_file(jsonl, purpose="metadata")
    assert server.requests == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
async def test_a_named_pipe_is_refused_without_blocking(
    client: AsyncLlamaClient, server: FakeLlamaAPI, tmp_path: Path
) -> None:
    """A FIFO is refused as not a regular file, without waiting for a writer."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgumentError, match="not a regular file"):
        await client.uploads.upload_file(fifo, purpose="metadata")
    assert server.requests == []


@pytest.mark.parametrize(
    ("name", "mime_type"),
    [
        ("a.JSONL", "application/jsonl"),
        ("a.json", "application/json"),
        ("a.txt", "text/plain"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.png", "image/png"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.ico", "image/x-icon"),
        ("a.mp3", "audio/mpeg"),
        ("a.wav", "audio/wav"),
        ("a.mp4", "video/mp4"),
        ("a.pdf", "application/pdf"),
        ("a.tar.gz", None),
        ("README", None),
    ],
)
def test_mime_types_are_guessed_from_the_extension(name: str, mime_type: str | None) -> None:
    """The extension, in any case, maps to a MIME type the API accepts, or to none."""
    assert guess_mime_type(name) == mime_type


def test_blocking_upload_reports_progress_on_the_client_thread(
    sync_client: LlamaClient, threaded_server: FakeLlamaAPI, jsonl: Path
) -> None:
    """LlamaClient.uploads.upload_file works alike; on_progress runs on the event-loop thread."""
    threads: set[str] = set()
    file_id = sync_client.uploads.upload_file(
        jsonl,
        purpose="messages_eval",
        part_size=3,
        on_progress=lambda sent, total: threads.add(threading.current_thread().name),
    )
    assert stored(threaded_server, file_id) == DATA
    assert threads == {"llama-models-portal"}
    assert threading.current_thread().name != "llama-models-portal"
    assert len(exchanges(threaded_server)) == 4
