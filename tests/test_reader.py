"""`read_events`: batches of lines give the same items, in the same order, as one by one."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from monitor.sources.reader import (
    BATCH_LINES,
    LineError,
    LineEvent,
    parse_line,
    read_events,
    read_lines,
)


def _line(n: int) -> bytes:
    """Line n of a mixed log: mostly events, with every kind of bad line among them."""
    if n % 97 == 0:
        return b"{not json"
    if n % 89 == 0:
        return b'{"type": "no.such.type", "call_id": "x", "ts": 0}'
    if n % 83 == 0:
        return b'{"type": "queue.entered", "call_id": "c", "ts": 1}'  # no queue
    if n % 79 == 0:
        return b"   "
    if n % 73 == 0:
        return b'{"type": "ivr.entered", "call_id": "c", "ts": 1, "menu": "' + b"m" * 70_000 + b'"}'
    event = {"type": "agent.ringing", "call_id": f"c{n % 50}", "ts": n, "agent": f"A{n}"}
    return json.dumps(event).encode()


def _items(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for item in read_events(path):
        if isinstance(item, LineEvent):
            out.append(("event", item.line, item.event.to_json()))
        else:
            out.append(("error", item.line, item.problem))
    return out


def _one_by_one(path: Path) -> list[tuple[str, int, str]]:
    """The reference: every non-blank line through parse_line on its own."""
    out = []
    with path.open("rb") as stream:
        for line in read_lines(stream, str(path)):
            # read_lines itself refuses a line over the limit (it never holds one).
            item = line if isinstance(line, LineError) else parse_line(str(path), *line)
            if isinstance(item, LineEvent):
                out.append(("event", item.line, item.event.to_json()))
            else:
                out.append(("error", item.line, item.problem))
    return out


def test_batches_give_what_line_by_line_parsing_gives(tmp_path: Path) -> None:
    log = tmp_path / "mixed.jsonl"
    count = BATCH_LINES * 3 + 17  # whole batches and a part batch
    log.write_bytes(b"".join(_line(n) + (b"\r\n" if n % 5 else b"\n") for n in range(1, count)))
    items = _items(log)
    assert items == _one_by_one(log)
    kinds = {kind for kind, _, _ in items}
    assert kinds == {"event", "error"}
    assert [number for _, number, _ in items] == sorted(number for _, number, _ in items)
    assert any("over the" in problem for kind, _, problem in items if kind == "error")


def test_a_truncated_gzip_keeps_the_lines_before_the_break(tmp_path: Path) -> None:
    count = BATCH_LINES + 40
    body = b"".join(_line(n) + b"\n" for n in range(1, count) if n % 73)
    packed = gzip.compress(body)
    log = tmp_path / "cut.jsonl.gz"
    log.write_bytes(packed[: len(packed) * 2 // 3])
    items = list(read_events(log))
    *lines, last = items
    assert isinstance(last, LineError) and last.problem.startswith("read error:")
    assert len(lines) > BATCH_LINES // 2
    # Every line before the break came out, in order, before the error.
    numbers = [item.line for item in lines]
    assert numbers == sorted(numbers)
    assert last.line > numbers[-1]
