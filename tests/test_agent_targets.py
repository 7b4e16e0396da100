"""callboard.toml's `[agent_targets]`: how long an agent may stay paused (or in wrap-up,
or ringing) before the agents panel marks the row `!` and `!!`, and the header counts
the agents paused past the alert level.

The real app on the agents fixture with levels read from a real config file, beside
the defaults on the same feed; `replay --config` on a real pty for the whole path;
a misordered pair of levels is a config problem naming its key and line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifier.agents import AgentState
from monitor.agents_view import AgentThresholds
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.widgets.agents import AgentsPanel
from monitor.config.load import ConfigError, parse_config, read_config
from tests.app_support import log_events, screen_text, until
from tests.cli_support import ROOT, callboard
from tests.pty_support import Terminal

FLOOR = ROOT / "fixtures" / "agents" / "floor.jsonl"
NINE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
#: Ana goes to lunch at 200 s in the fixture (its first 12 events).
LUNCH_S = 200

TARGETS = """\
[agent_targets]
pause_warn_s = 300
pause_alert_s = 600
"""


def thresholds(tmp_path: Path, text: str = TARGETS) -> AgentThresholds:
    path = tmp_path / "callboard.toml"
    path.write_text(text)
    return read_config(path).agent_targets.thresholds()


def ana_after(minutes: int, levels: AgentThresholds | None) -> CallboardApp:
    now = NINE + timedelta(seconds=LUNCH_S + minutes * 60)
    feed = fixture_runner(log_events(FLOOR)[:12], source=FLOOR.name)
    return CallboardApp(feed, clock=lambda: now, agent_thresholds=levels)


async def ana_row(app: CallboardApp, pilot: object) -> tuple[str, str]:
    """Ana's row in the agents panel (80x24, tab 6) and the header's agents line."""
    await until(pilot, lambda: app.connection.state == "finished")  # type: ignore[arg-type]
    app.repaint()
    await pilot.press("a")  # type: ignore[attr-defined]
    await until(pilot, lambda: "Ana Silva" in screen_text(app))  # type: ignore[arg-type]
    panel = app.query_one(AgentsPanel).region
    lines = screen_text(app).splitlines()
    (ana,) = [line for line in lines[panel.y : panel.bottom] if "Ana Silva" in line]
    (agents,) = [line for line in lines if line.startswith(" Agents ")]
    return ana[panel.x + 1 : panel.x + 3], agents


@pytest.mark.parametrize(
    ("minutes", "configured", "default"), [(4, "  ", "  "), (7, "! ", "  "), (11, "!!", "  ")]
)
async def test_pause_levels_come_from_the_file(
    tmp_path: Path, minutes: int, configured: str, default: str
) -> None:
    app = ana_after(minutes, thresholds(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        mark, agents = await ana_row(app, pilot)
    assert mark == configured
    assert ("paused 1 !!1 too long" in agents) is (configured == "!!"), agents
    # The same feed and time with callboard's defaults (warn at 15 min, alert at 30).
    app = ana_after(minutes, None)
    async with app.run_test(size=(80, 24)) as pilot:
        mark, agents = await ana_row(app, pilot)
    assert mark == default and "too long" not in agents


def test_an_alert_level_left_out_is_twice_the_warning(tmp_path: Path) -> None:
    levels = thresholds(tmp_path, "[agent_targets]\nwrap_up_warn_s = 90\nringing_alert_s = 45\n")
    assert (levels.wrap_up_s, levels.wrap_up_alert_s) == (90, None)
    assert levels.alert_limit(AgentState.WRAP_UP) == 180
    assert levels.alert_limit(AgentState.RINGING) == 45 and levels.ringing_s == 30
    assert levels.pause_s == AgentThresholds().pause_s  # not set: the default


def test_an_alert_level_not_above_its_warning_is_named_with_its_line() -> None:
    text = "[agent_targets]\npause_warn_s = 600\npause_alert_s = 300\nringing_alert_s = 20\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.toml")
    assert [str(p) for p in caught.value.problems] == [
        "c.toml:3: agent_targets.pause_alert_s: must be above pause_warn_s (600 s)",
        "c.toml:4: agent_targets.ringing_alert_s: must be above ringing_warn_s (30 s)",
    ]


def test_the_example_sets_agent_targets() -> None:
    done = callboard("config", "--example")
    config = parse_config(done.stdout, "example")
    assert config.agent_targets.pause_warn_s is not None


@pytest.mark.slow
def test_replay_with_a_config_counts_long_pauses_in_the_header(tmp_path: Path) -> None:
    # Ana paused at 09:00:10; the log's last event is at 09:11:40: 11m30s, past 600 s.
    rows = [
        {"type": "agent.status", "agent": "Ana", "status": "available", "s": 0},
        {"type": "agent.status", "agent": "Ben", "status": "available", "s": 0},
        {"type": "agent.status", "agent": "Ana", "status": "paused", "s": 10},
        {"type": "agent.status", "agent": "Ben", "status": "wrap_up", "s": 690},
        {"type": "agent.status", "agent": "Ben", "status": "available", "s": 700},
    ]
    log = tmp_path / "floor.jsonl"
    log.write_text(
        "".join(
            json.dumps(
                {
                    "type": r["type"],
                    "call_id": "",
                    "ts": (NINE + timedelta(seconds=int(str(r["s"])))).isoformat(),
                    "agent": r["agent"],
                    "status": r["status"],
                }
            )
            + "\n"
            for r in rows
        )
    )
    config = tmp_path / "callboard.toml"
    config.write_text(TARGETS)
    term = Terminal(["replay", str(log), "--speed", "0", "--config", str(config)], 160, 50)
    try:
        term.wait_for(lambda: "replay finished" in term.text())
        term.wait_for(lambda: "paused 1 !!1 too long" in term.text())
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()
