"""The bulk ESL reader and the decode-only-what-is-read headers give the events of the
straightforward path: every line read, every value URL-decoded.

`reference` below is that path, kept here as the adapter was before the bulk reader
(`read_lines`, a block ended by a blank line or a gap, every value `unquote`d, the
same mapper); the recordings are the documentation's mod_callcenter events
(../shared/realdata/freeswitch, through tests/esl_support.py) with their values
URL-encoded, mixed with the broken input a recording can hold: stray lines, blank
lines of spaces or '\\r', undecodable bytes, lines over the reader's limit, a file
without a blank line for megabytes. Items (events, errors with their line and
message, in order) and the set-aside tally must be the same.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typing_extensions import override

from bench.esl_ingest import doc_events
from monitor.sources import iter_source
from monitor.sources.esl_client import event_headers
from monitor.sources.esl_text import MAX_PENDING, EslTextAdapter
from monitor.sources.freeswitch import CallcenterMapper, EslEventError
from monitor.sources.reader import MAX_LINE, READ_LIMIT, LineError, LineEvent, read_lines
from monitor.sources.tally import SkipTally
from tests.esl_support import callcenter_event

Item = LineEvent | LineError


def reference(data: bytes, source: str) -> tuple[list[Item], SkipTally]:
    """The straightforward reading: line by line, every value URL-decoded."""
    mapper = CallcenterMapper()
    out: list[Item] = []
    block: list[tuple[int, str]] = []
    last = 0

    def finish() -> None:
        lines = block[:2000]
        first = lines[0][0]
        if len(block) > 2000:
            out.append(LineError(source, first, "a block of over 2000 lines: the rest cut"))
        headers: dict[str, str] = {}
        for number, line in lines:
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                out.append(LineError(source, number, f"not a 'Key: Value' line: {line[:60]!r}"))
                continue
            headers[key.strip()] = unquote(value.strip())
        if "Event-Name" not in headers:
            kind = headers.get("Content-Type", "") or "a block without Event-Name"
            if kind != "text/event-plain":
                mapper.skipped.add(kind[:64], "not an event", first)
            return
        if "Event-Date-Timestamp" not in headers:
            out.append(LineError(source, first, "a recorded event needs its Event-Date-Timestamp"))
            return
        try:
            events = mapper.event(headers, received=None)
        except EslEventError as exc:
            out.append(LineError(source, first, str(exc)))
            return
        out.extend(LineEvent(source, first, event) for event in events)

    for item in read_lines(io.BytesIO(data), source):
        if isinstance(item, LineError):
            out.append(item)
            continue
        number, raw = item
        if len(raw) > MAX_LINE:
            out.append(
                LineError(source, number, f"line is {len(raw)} bytes, over the 64 KiB limit")
            )
            continue
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if block and (not text.strip() or number != last + 1):
            finish()
            block = []
        last = number
        if text.strip():
            block.append((number, text))
    if block:
        finish()
    return out, mapper.skipped


class ShortReads(io.BytesIO):
    """A file that gives at most `most` bytes a read, as a pipe or a slow disk may."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__(data)
        self.most = most

    @override
    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.most if size is None or size < 0 else min(size, self.most))


def bulk(data: bytes, source: str, most: int) -> tuple[list[Item], SkipTally]:
    adapter = EslTextAdapter()
    return list(adapter.read_blocks(ShortReads(data, most), source)), adapter.skipped


ACTIONS = [(e["CC-Action"], e.get("CC-Cause")) for e in doc_events()]

#: Values a header may hold besides its own: percent signs that decode, that do not,
#: spaces that decode to the edge of a value.
ODD_VALUES = ["%41gent", "100%", "%ZZ", "%20Waiting%20", "a%3Ab", "%E2%82%AC", "%ff"]


@st.composite
def event_block(draw: st.DrawFn) -> bytes:
    action, cause = draw(st.sampled_from(ACTIONS))
    event = callcenter_event(
        action, draw(st.sampled_from(["m1", "m2", "m%201"])), draw(st.integers(0, 50)), cause=cause
    )
    event.setdefault("Event-Name", "CUSTOM")
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=3)):
        event[key] = draw(st.sampled_from([*ODD_VALUES, event[key] + "%"]))
    safe = draw(st.sampled_from(["", " ", "/:@"]))
    body = "".join(f"{k}: {quote(v, safe=safe)}\n" for k, v in event.items()).encode() + b"\n"
    if draw(st.booleans()):
        return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body
    return body


ODD_LINES = st.sampled_from(
    [
        b"\n",
        b"\r\n",
        b"   \n",
        b"\x1c\n",
        b"no colon here\n",
        b": no key\n",
        b"Key: value\r\n",
        b"Content-Type: api/response\n",
        b"Event-Name: CUSTOM\n",
        b"Bad-Bytes: \xff\xfe%41\n",
        b"X" * (MAX_LINE + 1) + b"\n",
        b"Y: " + b"y" * READ_LIMIT + b"\n",
        b"Z" * (READ_LIMIT - 1) + b"\r\n",
    ]
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Runs of blank lines where a read ends, and a block cut by the end of a read.
@example(parts=[b"A: b\n\n", b"\n", b"no colon here\n"], cut_end=0, most=1 << 20)
@example(parts=[b"A: b\n\n\n\n", b"no colon here\n", b"\n"], cut_end=0, most=1 << 20)
@example(parts=[b"A: b\n\n", b"\n", b"no colon here\n"], cut_end=0, most=5)
@given(
    parts=st.lists(st.one_of(event_block(), event_block(), ODD_LINES), max_size=14),
    cut_end=st.integers(0, 2),
    most=st.sampled_from([1, 7, 100, 4096, 1 << 20]),
)
def test_the_bulk_reader_gives_the_items_of_the_line_by_line_reading(
    parts: list[bytes], cut_end: int, most: int
) -> None:
    data = b"".join(parts)
    if cut_end and data.endswith(b"\n"):
        data = data[:-cut_end]  # a recording cut off inside its last line or block
    want, want_skipped = reference(data, "rec.esl")
    got, got_skipped = bulk(data, "rec.esl", most)
    assert got == want
    assert got_skipped.rows() == want_skipped.rows()


def test_a_recording_without_blank_lines_for_megabytes_reads_the_same(tmp_path: Path) -> None:
    # Past MAX_PENDING without a blank line, then a line of 3 MB, then events.
    head = b"".join(b"Filler-%d: %s\n" % (n, b"v" * 900) for n in range(MAX_PENDING // 900 + 50))
    events = b"".join(
        ("".join(f"{k}: {quote(v, safe='')}\n" for k, v in e.items()) + "\n").encode()
        for e in (
            callcenter_event("member-queue-start", "m1", 0),
            callcenter_event("member-queue-end", "m1", 80, cause="Cancel"),
        )
    )
    data = head + b"\n" + b"L" * (3 << 20) + b"\r\n" + events + b"L" * (READ_LIMIT + 5)
    path = tmp_path / "long.esl"
    path.write_bytes(data)
    want, want_skipped = reference(data, str(path))
    items = iter_source(path, "freeswitch-esl")
    got = list(items)
    assert got == want
    assert items.skipped.rows() == want_skipped.rows()
    assert sum(isinstance(item, LineEvent) for item in got) == 3
    # The line reader hands a block on at the next line it reads, after an over-long
    # line's message.
    assert [str(e).split(": ", 1)[1] for e in got if isinstance(e, LineError)] == [
        f"line is {3 << 20} bytes, over the 64 KiB limit",
        "a block of over 2000 lines: the rest cut",
        f"line is {READ_LIMIT + 5} bytes, over the 64 KiB limit",
    ]


@pytest.mark.parametrize("encode", ["all", "none"])
def test_the_live_client_decodes_what_the_mapper_reads(encode: str) -> None:
    event = callcenter_event("agent-status-change", "", 0, CC_Agent="1000@default%x")
    event["Event-Sequence"] = "12 /x"
    safe = "" if encode == "all" else " /:@%"
    body = "".join(f"{k}: {quote(v, safe=safe)}\n" for k, v in event.items()).encode() + b"\n"
    headers, bad = event_headers(body)
    assert not bad
    want = {k: unquote(quote(v, safe=safe)) for k, v in event.items()}
    assert CallcenterMapper().event(headers, None) == CallcenterMapper().event(want, None)
    assert headers["Event-Sequence"] == "12 /x"


@pytest.mark.parametrize("shape", ["frames", "bare", "crlf"])
def test_every_documented_event_reads_the_same_from_a_file(tmp_path: Path, shape: str) -> None:
    # Each of the documentation's events for two calls, as the socket sends them
    # (frames), as fs_cli prints them (bare, no blank line after the last), or saved
    # with Windows line ends (crlf: read line by line, every block unusual).
    script = [
        callcenter_event(action, member, at, cause=cause)
        for at, (member, (action, cause)) in enumerate(
            (member, pair) for member in ("m1", "m2") for pair in ACTIONS
        )
    ]
    blocks = ["".join(f"{k}: {quote(v, safe='')}\n" for k, v in e.items()) for e in script]
    if shape == "frames":
        data = b"".join(
            b"Content-Length: %d\nContent-Type: text/event-plain\n\n%s"
            % (len(block) + 1, (block + "\n").encode())
            for block in blocks
        )
    else:
        data = "\n".join(blocks).encode()
        if shape == "crlf":
            data = data.replace(b"\n", b"\r\n")
    path = tmp_path / "session.esl"
    path.write_bytes(data)
    want, want_skipped = reference(data, str(path))
    items = iter_source(path, "freeswitch-esl")
    got = list(items)
    assert got == want
    assert items.skipped.rows() == want_skipped.rows()
    assert sum(isinstance(item, LineEvent) for item in got) >= len(ACTIONS)
