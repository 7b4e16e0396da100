"""A finished call learned from a re-sync is marked `↻` on its outcome panel, as it was
in the active calls: on a board that saw it end, and on one that joined the hub later
and has it from the hub's snapshot (its day's panel rows, `classifier.panel_rows_form`).

The real app (Textual pilot) fed by a fixture runner, and by a real hub on loopback.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.pilot import Pilot

from classifier.schema import Event, event_from_dict
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.hub_feed import hub_runner
from monitor.board import BEFORE_JOINING
from monitor.feed.hub import Hub
from tests.app_support import screen_text, until

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
RESYNC = "2026-11-23T09:00:03+00:00"
#: Callers, one a call: re-synced and answered, answered as usual, re-synced and abandoned.
RESYNCED_ANSWERED = "+442079460101"
ANSWERED = "+442079460202"
RESYNCED_ABANDONED = "+442079460303"


def _call(
    call_id: str, caller: str, start: str, end: str, *, resync: bool, agent: str | None
) -> list[dict[str, object]]:
    started: dict[str, object] = {
        "type": "call.started",
        "call_id": call_id,
        "ts": start,
        "from": caller,
    }
    if resync:
        started["resync_at"] = RESYNC
    steps: list[dict[str, object]] = [
        started,
        {"type": "queue.entered", "call_id": call_id, "ts": start, "queue": "sales"},
    ]
    if agent is not None:
        steps.append({"type": "agent.answered", "call_id": call_id, "ts": end, "agent": agent})
        end = end.replace(":10+", ":50+")  # talked 40 s
    steps.append({"type": "call.ended", "call_id": call_id, "ts": end, "by": "caller"})
    return steps


def events() -> list[Event]:
    data = [
        *_call(
            "r1",
            RESYNCED_ANSWERED,
            "2026-11-23T08:59:21+00:00",
            "2026-11-23T09:01:10+00:00",
            resync=True,
            agent="ann",
        ),
        *_call(
            "n1",
            ANSWERED,
            "2026-11-23T09:02:00+00:00",
            "2026-11-23T09:02:10+00:00",
            resync=False,
            agent="ben",
        ),
        *_call(
            "r2",
            RESYNCED_ABANDONED,
            "2026-11-23T08:59:50+00:00",
            "2026-11-23T09:03:10+00:00",
            resync=True,
            agent=None,
        ),
    ]
    return sorted((event_from_dict(d) for d in data), key=lambda e: e.ts)


def row_of(text: str, caller: str) -> str:
    """The screen line that shows `caller`'s finished call (a narrow board: one line a call)."""
    (line,) = [line for line in text.splitlines() if caller in line]
    return line


async def panel_rows(app: CallboardApp, pilot: Pilot[int]) -> dict[str, str]:
    """Each caller's row as its panel shows it: Completed (key 1), then Abandoned (3)."""
    rows = {}
    for key, callers in (("1", (RESYNCED_ANSWERED, ANSWERED)), ("3", (RESYNCED_ABANDONED,))):
        await pilot.press(key)
        await until(pilot, lambda: all(x in screen_text(app) for x in callers))  # noqa: B023
        text = screen_text(app)
        rows.update({caller: row_of(text, caller) for caller in callers})
    return rows


def check_marked(rows: dict[str, str]) -> None:
    # The mark stands before the reason, as before the state in the active calls.
    assert "↻ answered by ann after" in rows[RESYNCED_ANSWERED]
    assert "↻ hung up in queue sales" in rows[RESYNCED_ABANDONED]
    assert "↻" not in rows[ANSWERED] and "answered by ben after" in rows[ANSWERED]


async def test_a_resynced_calls_finished_row_is_marked() -> None:
    app = CallboardApp(fixture_runner(events(), source="resync"), clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:  # narrow: one line a call
        await until(pilot, lambda: app.connection.state == "finished")
        assert app.board.count_today(Outcome.COMPLETED) == 2
        assert app.board.count_today(Outcome.ABANDONED) == 1
        check_marked(await panel_rows(app, pilot))


async def test_a_board_joining_later_marks_them_from_the_hubs_snapshot(hub: Hub) -> None:
    for event in events():
        assert hub.publish(event).accepted, event
    # The hub's day carries the mark in its panel rows, in the snapshot's form.
    recent = {row.verdict.call_id: row.verdict for rows in hub.day.recent.values() for row in rows}
    assert recent["r1"].resync_at == recent["r2"].resync_at == RESYNC
    assert recent["n1"].resync_at is None
    app = CallboardApp(hub_runner(hub.url), clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.board.last_seq == hub.seq)
        # Every finished call came in the snapshot's day, none as its events.
        finished = [
            f for o in (Outcome.COMPLETED, Outcome.ABANDONED) for f in app.board.finished(o)
        ]
        assert len(finished) == 3
        assert all(f.timeline[0][1] == BEFORE_JOINING for f in finished)
        assert {f.verdict.call_id: f.verdict for f in finished} == recent
        check_marked(await panel_rows(app, pilot))
