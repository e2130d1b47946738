"""The SSE parser is a pure function over bytes: tested without an event loop."""

from __future__ import annotations

import random

import pytest

from httpdeck.client import ServerSentEvent
from httpdeck.client._sse import SSEDecoder, parse_sse

Event = ServerSentEvent


def feed_in_pieces(body: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    start = 0
    for cut in [*sorted(cuts), len(body)]:
        events += decoder.feed(body[start:cut])
        start = cut
    return events + decoder.close()


def test_a_simple_event_defaults_to_message() -> None:
    assert parse_sse(b"data: hello\n\n") == [Event(data="hello")]


def test_event_type_id_and_retry_fields() -> None:
    body = b"event: tick\nid: 7\nretry: 1500\ndata: 1\n\n"
    assert parse_sse(body) == [Event("tick", "1", "7", 1500)]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert parse_sse(b"data: a\ndata: b\ndata:\ndata: c\n\n") == [Event(data="a\nb\n\nc")]


def test_comments_are_ignored() -> None:
    body = b": keep-alive\ndata: x\n: another\n\n:ping\n\n"
    assert parse_sse(body) == [Event(data="x")]


def test_only_one_leading_space_is_removed() -> None:
    assert parse_sse(b"data:  two spaces\ndata:none\n\n") == [Event(data=" two spaces\nnone")]


def test_a_field_without_colon_has_an_empty_value() -> None:
    assert parse_sse(b"data\n\n") == [Event(data="")]


def test_unknown_fields_are_ignored() -> None:
    assert parse_sse(b"foo: bar\ndata: x\n\n") == [Event(data="x")]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert parse_sse(b"event: lonely\n\ndata: next\n\n") == [Event(data="next")]


def test_the_event_type_resets_after_each_event() -> None:
    body = b"event: a\ndata: 1\n\ndata: 2\n\n"
    assert [e.event for e in parse_sse(body)] == ["a", "message"]


def test_the_last_event_id_carries_over_to_later_events() -> None:
    body = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"
    assert [e.id for e in parse_sse(body)] == ["1", "1", ""]


def test_an_id_containing_nul_is_ignored() -> None:
    body = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"
    assert [e.id for e in parse_sse(body)] == ["1", "1"]


@pytest.mark.parametrize(
    "value", [b"abc", b"12a", b"-5", b"1.5", b"", b"\xc2\xb2", b"2147483648", b"9" * 5000]
)
def test_retry_counts_only_when_all_digits_and_at_most_2_31_ms(value: bytes) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: " + value + b"\ndata: x\n\n")
    assert events == [Event(data="x")]
    assert decoder.retry is None


def test_the_longest_retry_taken_is_2_31_minus_1_ms() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 2147483647\n\n")
    assert decoder.retry == 2**31 - 1


def test_retry_is_remembered_by_the_decoder_even_without_data() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 250\n\n") == []
    assert decoder.retry == 250
    assert decoder.feed(b"data: x\n\n") == [Event(data="x")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_works(newline: bytes) -> None:
    body = newline.join([b"event: e", b"data: 1", b"data: 2", b"", b"data: 3", b"", b""])
    assert parse_sse(body) == [Event("e", "1\n2"), Event(data="3")]


def test_mixed_line_endings() -> None:
    assert parse_sse(b"data: a\r\ndata: b\rdata: c\n\r\n") == [Event(data="a\nb\nc")]


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    # If the LF after the first CR were a second line ending, "a" would be dispatched alone.
    assert decoder.feed(b"\n\r\n") == [Event(data="a\nb")]


def test_a_bom_at_the_start_is_dropped() -> None:
    assert parse_sse(b"\xef\xbb\xbfdata: x\n\n") == [Event(data="x")]


def test_a_stream_ending_mid_event_drops_that_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: done\n\ndata: half") == [Event(data="done")]
    assert decoder.close() == []
    assert parse_sse(b"data: no blank line\n") == []


def test_utf8_split_inside_a_character() -> None:
    body = "data: héllo ✓\n\n".encode()
    cut = body.index("✓".encode()) + 1
    assert feed_in_pieces(body, [cut]) == [Event(data="héllo ✓")]


def test_every_split_point_gives_the_same_events() -> None:
    body = (
        b"\xef\xbb\xbf: hi\r\nevent: a\r\nid: 1\r\ndata: x\r\n\r\n"
        b"data: y\rdata: z\r\rretry: 10\ndata: \xe2\x9c\x93\n\n"
    )
    expected = parse_sse(body)
    assert expected == [
        Event("a", "x", "1"),
        Event(data="y\nz", id="1"),
        Event(data="✓", id="1", retry=10),
    ]
    for cut in range(len(body) + 1):
        assert feed_in_pieces(body, [cut]) == expected, cut
    rng = random.Random(1234)
    for _ in range(200):
        cuts = rng.sample(range(1, len(body)), k=rng.randint(1, 12))
        assert feed_in_pieces(body, cuts) == expected, cuts


def test_empty_chunks_are_harmless() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n\n") == [Event(data="x")]


def test_json_decodes_the_data() -> None:
    assert Event(data='{"n": 1}').json() == {"n": 1}
