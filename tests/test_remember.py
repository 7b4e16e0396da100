"""What the user chose stays chosen: sort, filters and theme come back in the next board.

Real boards on a real pty (`callboard replay`), one after the other, sharing the
user state directory the autouse fixture gives each test; the file in between is
read as the next board reads it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from classifier.verdict import Outcome
from monitor.app.remember import Choices, load_choices, restore, state_path
from monitor.app.view import ViewState
from monitor.board import Filter, SortKey
from monitor.config.models import BoardSection
from tests.app_support import BOARD_LOG
from tests.cli_support import ROOT
from tests.pty_support import Terminal


def board(*extra: str) -> Terminal:
    term = Terminal(
        ["replay", str(BOARD_LOG.relative_to(ROOT)), "--speed", "0", *extra], columns=160, lines=50
    )
    term.wait_for(lambda: "replay finished" in term.text() and "c17" in term.text())
    return term


def quit_board(term: Terminal) -> None:
    term.press(b"q")
    assert term.exit_code() == 0
    term.close()


@pytest.mark.slow
def test_sort_and_filters_come_back_and_a_config_key_wins(tmp_path: Path) -> None:
    first = board()
    assert "sort: longest waiting" in first.text()
    first.press(b"s")  # longest call
    first.wait_for(lambda: "sort: longest call" in first.text())
    first.press(b"f")  # the first queue: billing (keys are handled in order, before q)
    first.wait_for(lambda: "c11" not in first.text())
    quit_board(first)
    saved = json.loads(state_path().read_text())
    assert saved["sort"] == SortKey.TOTAL.value and saved["queue"] == "billing"
    assert saved["theme"] == "textual-dark"

    second = board()
    assert "sort: longest call" in second.text()
    # Only billing's call is listed: sales' c11 and support's c12 are filtered out.
    assert "c17" in second.text() and "c11" not in second.text()
    quit_board(second)

    config = tmp_path / "callboard.toml"
    config.write_text('[board]\nsort = "caller"\ntheme = "nord"\n')
    third = board("--config", str(config))
    assert "sort: caller" in third.text()
    quit_board(third)
    assert json.loads(state_path().read_text())["theme"] == "nord"


def test_the_config_wins_and_a_damaged_file_is_left_out(tmp_path: Path) -> None:
    view = ViewState()
    saved = Choices(theme="nord", sort=SortKey.QUEUE, queue="sales", outcome=Outcome.MISSED)
    theme = restore(view, saved, BoardSection())
    assert (theme, view.sort, view.filter) == (
        "nord",
        SortKey.QUEUE,
        Filter("sales", Outcome.MISSED),
    )
    theme = restore(view, saved, BoardSection(sort="caller", theme="dracula"))
    assert (theme, view.sort) == ("dracula", SortKey.CALLER)
    path = tmp_path / "board.json"
    path.write_text('{"sort": "sideways"}')
    choices, problem = load_choices(path)
    assert choices == Choices() and problem is not None and "sort" in problem
    path.write_bytes(b"\xff\xfe")
    choices, problem = load_choices(path)
    assert choices == Choices() and problem is not None
    assert load_choices(tmp_path / "none.json") == (Choices(), None)
    assert os.environ["XDG_STATE_HOME"] in str(state_path())
