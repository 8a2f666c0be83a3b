"""The server-sent-events decoder, on plain bytes: no event loop, no server."""

from __future__ import annotations

import pytest

from llama_models._sse import ERROR, SSEDecoder

STREAM = (
    b'data: {"n":1}\n\n'
    b": keep-alive\n\n"
    b'data: {"n":2}\n\n'
    b'{"title":"Internal server error","status":500}\n\n'
)
EXPECTED = [
    (None, '{"n":1}'),
    (None, '{"n":2}'),
    (ERROR, '{"title":"Internal server error","status":500}'),
]


def decode_all(*pieces: bytes) -> list[tuple[str | None, str]]:
    decoder = SSEDecoder()
    events = []
    for piece in pieces:
        events += decoder.feed(piece)
    assert not decoder.finish()
    return events


def test_data_events_comments_and_a_bare_json_error_line() -> None:
    """``data:`` lines become events, comments vanish, a bare JSON line is an error."""
    assert decode_all(STREAM) == EXPECTED


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_is_understood(newline: bytes) -> None:
    """LF, CRLF and CR all end lines, as the SSE rules say."""
    assert decode_all(STREAM.replace(b"\n", newline)) == EXPECTED


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_split_of_the_bytes_gives_the_same_events(newline: bytes) -> None:
    """Events do not depend on where the network cut the bytes, even inside CRLF or UTF-8."""
    stream = STREAM.replace(b"\n", newline) + 'data: "héllo ✓"\n\n'.encode().replace(b"\n", newline)
    expected = [*EXPECTED, (None, '"héllo ✓"')]
    for cut in range(1, len(stream)):
        assert decode_all(stream[:cut], stream[cut:]) == expected, cut
    assert decode_all(*(stream[i : i + 1] for i in range(len(stream)))) == expected


def test_multiline_data_is_joined_and_one_leading_space_dropped() -> None:
    """Several ``data:`` lines make one event joined by newlines; ``data:x`` needs no space."""
    assert decode_all(b"data:a\ndata:  b\ndata\n\n") == [(None, "a\n b\n")]


def test_named_error_events_and_ignored_fields() -> None:
    """``event: error`` marks an error; ``id``, ``retry`` and unknown fields are ignored."""
    stream = b"id: 7\nretry: 100\nfoo: bar\nevent: error\ndata: {}\n\ndata: {}\n\n"
    assert decode_all(stream) == [(ERROR, "{}"), (None, "{}")]


def test_a_line_that_only_looks_like_json_is_a_field() -> None:
    """A line starting with ``{`` that is not JSON is an unknown field, not an error."""
    assert decode_all(b"{not json\ndata: 1\n\n") == [(None, "1")]


@pytest.mark.parametrize(
    "tail",
    [b'data: {"n":', b'data: {"n":3}\n', b"\xe2\x9c"],
    ids=["half-a-line", "no-blank-line", "half-a-character"],
)
def test_finish_reports_a_stream_cut_inside_an_event(tail: bytes) -> None:
    """An unfinished line, an undispatched event or half a character is a cut stream."""
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"n":1}\n\n' + tail) == [(None, '{"n":1}')]
    assert decoder.finish()


def test_buffered_counts_the_unfinished_line() -> None:
    """`buffered` lets the stream cap a line that never ends."""
    decoder = SSEDecoder()
    decoder.feed(b"data: " + b"x" * 100)
    assert decoder.buffered == 106


def test_invalid_utf8_is_refused() -> None:
    """Bytes that are not UTF-8 raise instead of turning into replacement characters."""
    with pytest.raises(UnicodeDecodeError):
        SSEDecoder().feed(b"data: \xff\n\n")
