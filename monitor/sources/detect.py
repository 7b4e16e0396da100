"""Telling a source's format from its first bytes, never from its name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from monitor.sources import asterisk, asterisk_ami, esl_text, exotel
from monitor.sources.log_stream import peek_log

CALLBOARD = "callboard"
FORMATS: tuple[str, ...] = (
    asterisk.FORMAT,
    asterisk_ami.FORMAT,
    exotel.FORMAT,
    esl_text.FORMAT,
    CALLBOARD,
)

#: How much of a file detection reads, and how many of its lines it tries.
HEAD_BYTES = 64 * 1024
SNIFF_LINES = 20

_QUEUE_LOG_LINE = re.compile(r"\s*\d{9,}(\.\d+)?\|[^|]*\|[^|]*\|[^|]*\|[A-Za-z_]+")
_EXOTEL_KEYS = frozenset({"call", "calls", "sid", "callsid", "leg1status", "dialcallstatus"})
_EXOTEL_HINT = re.compile(r'"(Call|Calls|Sid|CallSid|Leg1Status|DialCallStatus)"\s*:')
#: A FreeSWITCH event as event-plain writes it: the header every event carries.
_ESL_EVENT_LINE = re.compile(r"Event-Name: [A-Z_]+$")
#: An AMI message header: a recorded session's lines start with one of these.
_AMI_LINE = re.compile(r"(Event|Response|Action): [A-Za-z]+\s*$")
_CALLBOARD_HINT = re.compile(r'"type"\s*:\s*"(call|agent|queue|ivr|greeting|voicemail)\.')


class FormatError(ValueError):
    """The content matches no format callboard reads; the message says what it saw."""


def detect_format(path: str | Path) -> str:
    """`asterisk-queue-log`, `asterisk-ami`, `exotel`, `freeswitch-esl` or `callboard`, from `path`.

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
    # A FIFO or pipe is not opened twice: the reader gets these bytes back (`peek_log`).
    return peek_log(path, HEAD_BYTES).decode("utf-8", errors="replace")


def _format_of(head: str, name: str) -> str:
    text = head.lstrip()
    if not text:
        return CALLBOARD
    if text[0] in "{[":
        # One value (pretty-printed, or an array): its first object says what it is.
        found = _by_keys(_first_object(text))
        if found is not None:
            return found
    # Line by line, so that a broken first line does not hide the rest of the file.
    lines = [line.strip() for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    for line in lines:
        if _QUEUE_LOG_LINE.match(line):
            return asterisk.FORMAT
        if _ESL_EVENT_LINE.match(line):
            return esl_text.FORMAT
        if _AMI_LINE.match(line) or line.startswith("Asterisk Call Manager/"):
            return asterisk_ami.FORMAT
        if line.startswith("{"):
            try:
                found = _by_keys(json.loads(line))
            except (ValueError, RecursionError):
                continue
            if found is not None:
                return found
    if _CALLBOARD_HINT.search(text):
        return CALLBOARD
    if _EXOTEL_HINT.search(text):
        return exotel.FORMAT
    sample = lines[0][:60] if lines else ""
    raise FormatError(
        f"{name}: cannot tell the format (first line {sample!r}): neither callboard events "
        "(type, call_id, ts), Exotel records (Call, Sid or CallSid), Asterisk queue_log "
        "lines (epoch|callid|queue|agent|EVENT), nor AMI messages (Event: ...), nor FreeSWITCH "
        "events (Event-Name: ...); give --from"
    )


def _by_keys(value: Any) -> str | None:
    """callboard or exotel from an object's keys; None when they say neither."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("Event"), str) and ("Privilege" in value or "Uniqueid" in value):
        # An AMI event's headers (a recorded session as a JSON array).
        return asterisk_ami.FORMAT
    call = value.get("Call")
    keys = {str(k).lower() for k in (call if isinstance(call, dict) else value)}
    if "type" in keys and ("call_id" in keys or "ts" in keys):
        return CALLBOARD
    if keys & _EXOTEL_KEYS or "call" in {str(k).lower() for k in value}:
        return exotel.FORMAT
    return None


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object of `text` (inside a top-level array too), if it parses."""
    for _line, value, problem in exotel.json_values(text):
        if problem is not None:
            return None
        while isinstance(value, list) and value:
            value = value[0]
        return value if isinstance(value, dict) else None
    return None


def choose_format(path: str | Path, given: str | None) -> tuple[str, bool]:
    """The format of `path`: the one given (--from), or the one detected from its content.

    Returns (format, detected). Standard input ('-') is callboard's own format unless
    given. Raises `FormatError` for a missing file or content that names no format.
    """
    if str(path) != "-" and not Path(path).exists():
        raise FormatError(f"{path}: no such file")
    if given is not None or str(path) == "-":
        return given or CALLBOARD, False
    try:
        return detect_format(path), True
    except OSError as exc:
        raise FormatError(f"{path}: {exc.strerror or exc}") from None
