"""Telling a source's format from its first bytes, never from its name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor.reader import open_log
from monitor.sources import asterisk, exotel

CALLBOARD = "callboard"
FORMATS: tuple[str, ...] = (asterisk.FORMAT, exotel.FORMAT, CALLBOARD)

#: How much of a file detection reads.
HEAD_BYTES = 64 * 1024

_QUEUE_LOG_LINE = re.compile(r"\s*\d{9,}(\.\d+)?\|[^|]*\|[^|]*\|[^|]*\|[A-Za-z_]+")
_EXOTEL_KEYS = frozenset({"call", "calls", "sid", "callsid", "leg1status", "dialcallstatus"})
_EXOTEL_HINT = re.compile(r'"(Call|Calls|Sid|CallSid|Leg1Status|DialCallStatus)"\s*:')
_CALLBOARD_HINT = re.compile(r'"type"\s*:\s*"(call|agent|queue|ivr|greeting|voicemail)\.')


class FormatError(ValueError):
    """The content matches no format callboard reads; the message says what it saw."""


def detect_format(path: str | Path) -> str:
    """`asterisk-queue-log`, `exotel` or `callboard`, from the content of `path`.

    A directory is a set of Exotel records. An empty file is callboard's own
    format (there is nothing to translate). Raises `FormatError` otherwise.
    """
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and not p.name.startswith("."))
        for file in files:
            try:
                if _format_of(_head(file), str(file)) == exotel.FORMAT:
                    return exotel.FORMAT
            except FormatError:
                continue
        raise FormatError(f"{path}: a directory is read as Exotel records, and none was found")
    return _format_of(_head(target), str(path))


def _head(path: Path) -> str:
    stream = open_log(path)
    try:
        data = stream.read(HEAD_BYTES)
    finally:
        stream.close()
    return data.decode("utf-8-sig", errors="replace")


def _format_of(head: str, name: str) -> str:
    text = head.lstrip()
    if not text:
        return CALLBOARD
    if text[0] in "{[":
        first = _first_object(text)
        if first is not None:
            keys = {str(k).lower() for k in first}
            if "type" in keys and ("call_id" in keys or "ts" in keys):
                return CALLBOARD
            if keys & _EXOTEL_KEYS:
                return exotel.FORMAT
        elif _CALLBOARD_HINT.search(text):
            return CALLBOARD
        elif _EXOTEL_HINT.search(text):
            return exotel.FORMAT
        raise FormatError(
            f"{name}: JSON, but neither callboard events (type, call_id, ts) "
            "nor Exotel records (Call, Sid or CallSid)"
        )
    lines = [line for line in text.splitlines() if line.strip()][:5]
    if any(_QUEUE_LOG_LINE.match(line) for line in lines):
        return asterisk.FORMAT
    sample = lines[0][:60] if lines else ""
    raise FormatError(
        f"{name}: cannot tell the format (first line {sample!r} is neither JSON nor "
        "an Asterisk queue_log line epoch|callid|queue|agent|EVENT); give --from"
    )


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object of `text` (inside a top-level array too), if it parses."""
    for _line, value, problem in exotel.json_values(text):
        if problem is not None:
            return None
        while isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            call = value.get("Call")
            return call if isinstance(call, dict) else value
        return None
    return None
