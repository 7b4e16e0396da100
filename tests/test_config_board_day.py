"""callboard.toml's `[board] panels` and `[day]` applied, flags winning over the file.

Real config files on disk: `[day]` through the real `callboard` commands in
subprocesses (classify's days, report's zone, serve's hub day as `tail` reads it
from the hub) and through the board commands' own argument path; `[board] panels`
through `callboard replay` on a real pty and the app under a pilot.
"""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from websockets.asyncio.client import connect

from classifier.day import DayClock, DayState
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.launch import settings_from
from monitor.cli import build_parser
from monitor.commands.options import day_clock
from tests.app_support import BOARD_LOG, BOARD_NOW, loaded, log_events, screen_text, until
from tests.cli_support import ROOT, callboard
from tests.hub_support import ServeProcess, run_tail
from tests.pty_support import Terminal

LONDON_SIX = '[day]\ntimezone = "Europe/London"\nday_start = "06:00"\n'


def day_log(path: Path) -> Path:
    """Four answered calls in 'sales' around 06:00 UTC (06:00 in London) on 2026-10-25:
    two end before six, two after."""
    lines = []
    for call, start, end in (
        ("before-1", "05:20", "05:30"),
        ("before-2", "05:50", "05:59"),
        ("after-1", "06:02", "06:05"),
        ("after-2", "06:05", "06:10"),
    ):
        ts = f"2026-10-25T{start}:00+00:00"
        lines += [
            {"type": "call.started", "call_id": call, "ts": ts, "from": "+4420"},
            {"type": "queue.entered", "call_id": call, "ts": ts, "queue": "sales"},
            {"type": "agent.answered", "call_id": call, "ts": ts, "agent": "ann"},
            {
                "type": "call.ended",
                "call_id": call,
                "ts": f"2026-10-25T{end}:00+00:00",
                "by": "caller",
            },
        ]
    lines.sort(key=lambda line: line["ts"])
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def days_of(stderr: str) -> list[tuple[str, str]]:
    return re.findall(r"ended on (\S+) +│ +│ +(\d+) │", stderr)


def test_classify_counts_on_the_files_day_and_a_flag_wins(tmp_path: Path) -> None:
    log = str(day_log(tmp_path / "day.jsonl"))
    config = tmp_path / "callboard.toml"
    config.write_text(LONDON_SIX)
    done = callboard("classify", log, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert days_of(done.stderr) == [("2026-10-24", "2"), ("2026-10-25", "2")], done.stderr
    # --day-starts over the file's 06:00 (the file's zone kept): all four on the 25th.
    flag = callboard("classify", log, "--config", str(config), "--day-starts", "00:00")
    assert days_of(flag.stderr) == [("2026-10-25", "4")], flag.stderr


def test_report_takes_the_files_time_zone_unless_given_one(tmp_path: Path) -> None:
    log = str(day_log(tmp_path / "day.jsonl"))
    config = tmp_path / "callboard.toml"
    config.write_text('[day]\ntimezone = "America/New_York"\n')
    done = callboard("report", log, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "intervals (America/New_York)" in done.stdout + done.stderr
    # 05:30 UTC is 01:30 in New York that day: the first interval is there.
    assert "2026-10-25 01:30" in done.stdout
    flag = callboard("report", log, "--config", str(config), "--timezone", "Asia/Tokyo")
    assert "intervals (Asia/Tokyo)" in flag.stdout + flag.stderr


def test_the_boards_day_clock_is_the_files_under_the_flags(tmp_path: Path) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text(LONDON_SIX)
    parser = build_parser()
    for command in (["replay", "x.jsonl"], ["watch", "ws://127.0.0.1:1/events"], []):
        args = parser.parse_args([*command, "--config", str(config)])
        settings_from(args)  # as run_board does first: reads the file
        assert day_clock(args) == DayClock(ZoneInfo("Europe/London"), time(6, 0)), command
        args = parser.parse_args([*command, "--config", str(config), "--timezone", "UTC"])
        settings_from(args)
        assert day_clock(args) == DayClock(ZoneInfo("UTC"), time(6, 0)), command
    bare = parser.parse_args(["replay", "x.jsonl"])
    settings_from(bare)
    assert day_clock(bare) is None


@pytest.mark.slow
def test_serves_hub_counts_its_day_by_the_file(tmp_path: Path) -> None:
    log = day_log(tmp_path / "day.jsonl")
    config = tmp_path / "callboard.toml"
    config.write_text(LONDON_SIX)
    hub = ServeProcess(["--port", "0", str(log), "--speed", "0", "--config", str(config)])
    try:
        done = run_tail(hub.url, "--until-finished")
    finally:
        hub.terminate()
    assert done.returncode == 0, done.stderr
    # The hub's day turned at 06:00 London: the 25th holds the two calls after six.
    assert (
        "callboard tail: the hub's day 2026-10-25 (days start at 06:00 in Europe/London): "
        "2 offered, 2 answered"
    ) in done.stderr


PANELS = '[board]\npanels = ["missed", "abandoned"]\n'


@pytest.mark.slow
def test_replay_shows_only_the_files_panels(tmp_path: Path) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text(PANELS)
    log = str(BOARD_LOG.relative_to(ROOT))
    term = Terminal(["replay", log, "--speed", "0", "--config", str(config)], 160, 50)
    try:
        term.wait_for(lambda: "replay finished" in term.text() and "2 Missed" in term.text())
        text = term.text()
        assert "3 Abandoned" in text
        for hidden in ("1 Completed", "4 Voicemail", "5 Not connected"):
            assert hidden not in text
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()


async def test_a_hidden_panel_has_no_tab_and_its_key_says_so() -> None:
    app = CallboardApp(
        fixture_runner(log_events(BOARD_LOG), source=BOARD_LOG.name),
        clock=lambda: BOARD_NOW,
        panels=[Outcome.MISSED, Outcome.ABANDONED],
    )
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        strip = next(line for line in screen_text(app).splitlines() if "6 Agents" in line)
        assert "2 Missed" in strip and "3 Abandoned" in strip
        assert "Completed" not in strip and "Voicemail" not in strip
        # The first panel shown is the current one; 1 (completed, hidden) changes nothing.
        assert app.view.panel is Outcome.MISSED
        await pilot.press("1")
        await until(pilot, lambda: "panel is not shown" in screen_text(app))
        assert app.view.panel is Outcome.MISSED


def test_the_readmes_config_example_checks_clean(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "callboard.toml"
    path.write_text(example)
    done = callboard("config", "check", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
async def test_serves_hub_counts_with_the_files_thresholds(tmp_path: Path) -> None:
    # Boards started with the same file then take the hub's day (their settings agree),
    # and the hub's alerts judge on it rather than on a day of their own.
    log = day_log(tmp_path / "day.jsonl")
    config = tmp_path / "callboard.toml"
    config.write_text('[queues."*"]\nsl_threshold_s = 10\nshort_abandon_s = 3\n')
    hub = ServeProcess(["--port", "0", str(log), "--speed", "0", "--config", str(config)])
    try:
        async with connect(hub.url) as ws:
            first = json.loads(await ws.recv())
    finally:
        hub.terminate()
    assert first["frame"] == "snapshot"
    settings = first["day"]["settings"]
    assert (settings["service_level_s"], settings["short_abandon_s"]) == (10, 3)
    parser = build_parser()
    args = parser.parse_args(["watch", hub.url, "--config", str(config)])
    assert settings_from(args) == DayState.from_dict(first["day"]).settings
