"""The event-stream parser: events split anywhere, CRLF or LF, heartbeats, and bad events
that are reported while the stream goes on."""

from __future__ import annotations

from bot.adapters.sse import SseParser, SseRecord


def feed_all(parser: SseParser, *chunks: bytes) -> list[SseRecord]:
    records = []
    for chunk in chunks:
        records += parser.feed(chunk)
    return records


def test_events_split_across_reads_come_out_whole() -> None:
    stream = b':connected\n\nevent: update\ndata: {"id":"1"}\n\nevent: delete\ndata: 1\n\n'
    for size in (1, 2, 7, len(stream)):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert feed_all(SseParser(), *chunks) == [
            SseRecord("update", '{"id":"1"}'),
            SseRecord("delete", "1"),
        ]


def test_crlf_line_ends_even_split_between_reads() -> None:
    records = feed_all(SseParser(), b"event: update\r\ndata: a\r", b"\n\r", b"\n")
    assert records == [SseRecord("update", "a")]


def test_several_data_lines_join_with_newlines_and_comments_are_ignored() -> None:
    records = SseParser().feed(b":thump\n\nevent:x\ndata: one\n:note\ndata:two\n\n")
    assert records == [SseRecord("x", "one\ntwo")]


def test_an_oversized_event_is_dropped_and_the_next_one_still_arrives() -> None:
    parser = SseParser(max_record_bytes=100)
    records = feed_all(
        parser,
        b"event: update\ndata: " + b"x" * 150,
        b"x" * 150,
        b"\n\nevent: delete\ndata: 9\n\n",
    )
    assert records == [
        SseRecord(None, None, "an event larger than 100 bytes was dropped"),
        SseRecord("delete", "9"),
    ]


def test_an_event_that_is_not_utf8_is_reported_and_skipped() -> None:
    records = SseParser().feed(b"event: update\ndata: \xff\xfe\n\nevent: delete\ndata: 2\n\n")
    assert records == [
        SseRecord(None, None, "an event that is not UTF-8 was dropped"),
        SseRecord("delete", "2"),
    ]
