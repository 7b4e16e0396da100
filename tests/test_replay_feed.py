"""`callboard replay` and the demo feed the board in-process: real logs, the real board."""

from __future__ import annotations

import json
from pathlib import Path

from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.demo import demo_runner
from monitor.commands.replay import replay_runner
from tests.app_support import (
    BOARD_EXPECTED,
    BOARD_LOG,
    BOARD_NOW,
    HOSTILE_LOG,
    counts,
    screen_text,
    until,
)


async def test_replay_fills_every_panel_and_ends_marked_finished() -> None:
    app = CallboardApp(replay_runner(BOARD_LOG, speed=0), clock=lambda: BOARD_NOW, rate=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert counts(app) == BOARD_EXPECTED
        assert set(app.board.calls) == {"c11", "c12", "c13", "c17", "c19", "c20", "c21"}
        assert app.board.problem_count == 0
        await until(pilot, lambda: "■ replay finished: " in screen_text(app))
        await until(pilot, lambda: "Abandoned 5" in screen_text(app))


async def test_hostile_log_renders_escaped_and_names_the_bad_line() -> None:
    app = CallboardApp(replay_runner(HOSTILE_LOG, speed=0), clock=lambda: BOARD_NOW, rate=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert app.board.problem_count == 1
        assert app.board.problems[0].endswith(
            "hostile.jsonl:20: call.started: field 'from': "
            "String should have at most 256 characters"
        )
        await until(pilot, lambda: "Feed problems 1" in screen_text(app))
        text = screen_text(app)
        assert "\x1b" not in text
        assert "[bold red]BOOM" in text


async def test_what_a_hub_would_refuse_is_counted_or_listed(tmp_path: Path) -> None:
    # A repeated line is a duplicate (counted, not a problem); an event for a call
    # that has already ended is rejected and named on the problem list.
    lines = BOARD_LOG.read_text(encoding="utf-8").splitlines()
    ended = next(line for line in lines if '"call.ended"' in line)
    call_id = json.loads(ended)["call_id"]
    late = {
        "type": "agent.ringing",
        "ts": "2026-11-23T09:29:00Z",
        "call_id": call_id,
        "agent": "Zed",
    }
    log = tmp_path / "with-repeats.jsonl"
    log.write_text("\n".join([*lines, ended, json.dumps(late)]) + "\n", encoding="utf-8")
    app = CallboardApp(replay_runner(log, speed=0), clock=lambda: BOARD_NOW, rate=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert counts(app) == BOARD_EXPECTED
        assert app.board.duplicates == 1
        assert app.board.problem_count == 1
        assert app.board.problems[0] == (
            f"agent.ringing for call {call_id!r}, which has already ended"
        )


async def test_a_log_that_cannot_be_read_is_a_problem_on_a_finished_board(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "gone.jsonl"
    app = CallboardApp(replay_runner(missing, speed=0), clock=lambda: BOARD_NOW, rate=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert app.board.problems[0] == f"the source {missing} failed: {missing}: no such file"
        await until(pilot, lambda: "problems 1" in screen_text(app))


async def test_max_gap_shortens_hours_of_quiet_to_a_moment(tmp_path: Path) -> None:
    # Three events an hour apart at real speed: without --max-gap the replay would
    # take two hours and the wait below would fail.
    events = [
        {"type": "call.started", "ts": "2026-11-23T08:00:00Z", "from": "+441", "to": "+442"},
        {"type": "queue.entered", "ts": "2026-11-23T09:00:00Z", "queue": "sales"},
        {"type": "call.ended", "ts": "2026-11-23T10:00:00Z", "by": "caller"},
    ]
    log = tmp_path / "quiet.jsonl"
    log.write_text(
        "".join(json.dumps({"call_id": "q1", **e}) + "\n" for e in events),
        encoding="utf-8",
    )
    app = CallboardApp(replay_runner(log, speed=1.0, max_gap=0.1), clock=lambda: BOARD_NOW)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert app.board.count_today(Outcome.ABANDONED) == 1
        assert app.board.events_applied == 3


async def test_the_demo_feed_is_live_with_calls_in_progress() -> None:
    app = CallboardApp(demo_runner(seed=1))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: len(app.board.calls) > 0)
        assert app.connection.state == "live"
        assert app.connection.source == "simulated centre"
        await until(pilot, lambda: "● live" in screen_text(app))
