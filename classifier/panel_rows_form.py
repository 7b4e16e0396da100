"""The panels' finished calls as a snapshot carries them: short keys, times as offsets.

A hub's day (`classifier.day.DayState.to_dict()`) holds the newest `PANEL_ROWS`
finished calls of each outcome, each a `classify` record plus its rule, caller,
callee and seq: 0.42 MB of a snapshot for 1,000 rows (bench figure 8), a third of
it keys repeated on every row and two 32-character ISO times. `to_snapshot` writes
the same rows with short keys, every field at its default left out (the outcome is
the list's own unless it differs), the start as seconds after one base `t0` and the
end as seconds after the start; `from_snapshot` gives back exactly the dicts
`to_dict()` wrote, which `DayState.from_dict` reads as before. A time is written as
an offset only when the offset rebuilds its very text (`isoformat()` of the same
instant in the same UTC offset); any other (another offset, another spelling) is
written as it was. Keys this module does not know travel under their own names.

It is a transform of plain data, lossless by construction, so the day's own form
(and the journal checkpoint that keeps it) does not change: only the snapshot's
`day.recent` is in this form, marked by its `form` key. Pure (no I/O).

`snapshot_steps` writes the same form in steps (`classifier.steps`) from rows taken
at once, each made a dict only when its turn comes: a hub writes a joining board's
1,000s of rows between its loop's turns (`monitor.feed.snapshot_build`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from classifier.steps import Steps, finish

R = TypeVar("R")

#: The version of this form; `from_snapshot` refuses any other.
FORM = 1

#: A row's key -> (its short key, its default). Defaults are left out of the form.
_KEYS: dict[str, tuple[str, Any]] = {
    "call_id": ("id", None),
    "reason": ("why", None),
    "detail": ("d", ""),
    "direction": ("dir", "inbound"),
    "queue": ("q", None),
    "agents_rung": ("rung", []),
    "wait_s": ("w", None),
    "talk_s": ("talk", None),
    "flags": ("flags", []),
    "rule": ("rule", ""),
    "caller": ("from", ""),
    "callee": ("to", ""),
    "seq": ("seq", None),
    "resync_at": ("resync", None),
}
_LONG = {short: (long, default) for long, (short, default) in _KEYS.items()}
#: Keys of the form with a meaning of their own (not a row's key renamed).
_OWN = ("o", "t", "end")
#: Rows written between two steps of `snapshot_steps` (about 1 ms of work).
ROWS_STEP = 100


def is_snapshot_form(recent: object) -> bool:
    """Whether a day's `recent` is in this form rather than `to_dict()`'s."""
    return isinstance(recent, Mapping) and "form" in recent


def to_snapshot(recent: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """`DayState.to_dict()["recent"]` in the snapshot's form."""
    return finish(snapshot_steps(recent, dict))


def snapshot_steps(
    recent: Mapping[str, Sequence[R]],
    as_dict: Callable[[R], dict[str, Any]],
    step: int = ROWS_STEP,
) -> Steps[dict[str, Any]]:
    """`to_snapshot` of the rows `as_dict` makes of `recent`'s items, in steps of
    `step` rows. `recent` must not change until the steps end (a copy taken at once)."""
    base = _first_start(map(as_dict, items) for items in recent.values())
    rows: dict[str, list[dict[str, Any]]] = {}
    done = 0
    for outcome, items in recent.items():
        out_rows = rows[outcome] = []
        for item in items:
            out_rows.append(_row_out(as_dict(item), outcome, base))
            done += 1
            if done % step == 0:
                yield
    out: dict[str, Any] = {"form": FORM, "rows": rows}
    if base is not None:
        out["t0"] = base.isoformat()
    return out


def from_snapshot(data: Any) -> dict[str, list[dict[str, Any]]]:
    """The `recent` rows `to_snapshot` was given; ValueError naming what does not fit."""
    if not isinstance(data, Mapping) or data.get("form") != FORM:
        found = data.get("form") if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(f"panel rows: form {found!r}, expected {FORM}")
    base = None
    if data.get("t0") is not None:
        base = _parse(data["t0"], "t0")
    rows = data.get("rows")
    if not isinstance(rows, Mapping):
        raise ValueError("panel rows: rows is not an object")
    out: dict[str, list[dict[str, Any]]] = {}
    for outcome, items in rows.items():
        if not isinstance(items, list):
            raise ValueError(f"panel rows: rows.{outcome} is not a list")
        out[str(outcome)] = [
            _row_in(item, str(outcome), base, f"rows.{outcome}.{i}") for i, item in enumerate(items)
        ]
    return out


def _first_start(recent: Iterable[Iterable[dict[str, Any]]]) -> datetime | None:
    for items in recent:
        for item in items:
            try:
                return datetime.fromisoformat(str(item.get("started_at")))
            except ValueError:
                continue
    return None


def _offset(text: Any, base: datetime | None) -> Any:
    """`text` as seconds after `base` when they rebuild it exactly, else `text`."""
    if base is None or not isinstance(text, str):
        return text
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    if at.utcoffset() != base.utcoffset():
        return text
    seconds = round((at - base).total_seconds(), 6)
    return seconds if _rebuilt(base, seconds) == text else text


def _rebuilt(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


def _row_out(item: dict[str, Any], outcome: str, base: datetime | None) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in item.items():
        if key == "outcome":
            if value != outcome:
                row["o"] = value
        elif key == "started_at":
            row["t"] = _offset(value, base)
        elif key == "ended_at":
            start = item.get("started_at")
            started = _parse_or_none(start)
            row["end"] = _offset(value, started)
        elif key in _KEYS:
            short, default = _KEYS[key]
            if value != default or key == "call_id":
                row[short] = value
        else:
            row[key] = value  # a key of a newer record: carried as it is
    return row


def _row_in(item: Any, outcome: str, base: datetime | None, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError(f"panel rows: {where} is not an object")
    row: dict[str, Any] = {}
    for short, (long, default) in _LONG.items():
        value = item.get(short, default)
        row[long] = list(value) if isinstance(value, list) else value
    row["outcome"] = item.get("o", outcome)
    start = item.get("t")
    if isinstance(start, int | float) and not isinstance(start, bool):
        if base is None:
            raise ValueError(f"panel rows: {where}.t is in seconds, but there is no t0")
        start = _rebuilt_or_fail(base, start, f"{where}.t")
    row["started_at"] = start
    end = item.get("end")
    if isinstance(end, int | float) and not isinstance(end, bool):
        started = _parse(start, f"{where}.t")
        end = _rebuilt_or_fail(started, end, f"{where}.end")
    row["ended_at"] = end
    for key, value in item.items():
        if key not in _LONG and key not in _OWN:
            row[key] = value
    return row


def _rebuilt_or_fail(base: datetime, seconds: float, where: str) -> str:
    try:
        return _rebuilt(base, seconds)
    except OverflowError:
        raise ValueError(f"panel rows: {where}: {seconds:g} s is not a date") from None


def _parse(value: Any, where: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"panel rows: {where} is not a time: {value!r}") from None


def _parse_or_none(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
