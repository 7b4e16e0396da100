"""Targets on screen: a queue missing its target is coloured and marked `!`/`!!`.

The real board app on the board fixture log, with the targets of a real config file
(monitor.targets.Targets, as `run_board` sets them); under NO_COLOR the marks alone
must carry the meaning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.board import Level
from monitor.config.load import read_config
from monitor.targets import Targets
from tests.app_support import loaded, make_app, screen_text

CONFIG = """\
[queues."*"]
wait_warn_s = 45
wait_alert_s = 120
sl_target_pct = 30
abandon_warn_pct = 50

[queues.support]
label = "Helpdesk"
sl_target_pct = 50

[queues.sales]
hidden = true
"""


def targets(tmp_path: Path) -> Targets:
    path = tmp_path / "callboard.toml"
    path.write_text(CONFIG)
    return Targets(read_config(path))


def test_levels_follow_each_queues_targets(tmp_path: Path) -> None:
    t = targets(tmp_path)
    assert [t.wait_level(w, "billing") for w in (45, 46, 120, 121)] == [
        Level.OK,
        Level.WARN,
        Level.WARN,
        Level.ALERT,
    ]
    assert t.service_level(0.33, "support") is Level.ALERT  # below support's 50
    assert t.service_level(0.33, "billing") is Level.OK  # above "*"'s 30
    assert t.service_level(None, "billing") is Level.OK  # no figure yet
    assert t.abandon_rate(0.51, None) is Level.WARN and t.abandon_rate(0.5, None) is Level.OK
    assert t.label("support") == "Helpdesk" and t.label("billing") == "billing"
    assert t.hidden("sales") and not t.hidden("support")


def header_and_rows(text: str) -> tuple[list[str], dict[str, str]]:
    lines = text.splitlines()
    rows = {
        line.rstrip("│ ").split()[-1]: line[:4]
        for line in lines
        if line.startswith("│") and " c1" in line
    }
    return lines[:6], rows


@pytest.mark.parametrize("no_color", [False, True])
async def test_the_board_marks_what_misses_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    app.board.targets = targets(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        header, rows = header_and_rows(screen_text(app))
    # The day: longest 3m30s past 120 s (!!), SL 18% below 30% (!!), abandon 36% under 50%.
    assert "longest !!3m30s  SL !!18%  abandon 36%" in header[0]
    # Each queue row ends with its agents free and busy (issue 16): the figures before them.
    queues = {line.split()[0]: line.split()[:-2] for line in header[3:6]}
    # billing: wait past the alert level, SL 0% below 30%, abandon 100% over 50%.
    assert queues["billing"][-4:] == ["!!3m30s", "!!0%", "!100%", "–"]
    # support shows as Helpdesk: wait 30 s under 45, SL 33% below its own 50%.
    assert queues["Helpdesk"][-4:] == ["30s", "!!33%", "0%", "4s"]
    assert "sales" not in queues and "support" not in queues
    # Active rows: billing's 3m30s alerts, sales' 1m00s warns (past 45 s), support's 30 s not.
    assert rows["c17"] == "│!! " and rows["c11"] == "│!  " and rows["c12"] == "│   "


async def test_without_targets_the_board_is_as_before() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        header, rows = header_and_rows(screen_text(app))
    assert "longest !3m30s  SL 18%  abandon 36%" in header[0]
    assert rows["c12"] == "│!  "
