"""The board redraws only the lines that changed: on a real pty, the screen must still be right.

A replay of a few thousand simulated events at full speed makes the board draw
many frames in which only some lines changed (rows re-sorting, panels growing,
counts moving). At the end, the terminal (pyte playing the pty's bytes) must
show exactly what a full redraw of the same final board shows: the same board,
fed the same events headless, every widget refreshed whole. Then the keys that
switch panels and sort the table (hidden panels shown, every row moved) must
agree as well. Run locally (10 repaints a second) and in an SSH session's
environment (2 a second), since both are what users get.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from textual.pilot import Pilot

from bench.eventlog import generate, warmup_events
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.launch import SSH_VARIABLES
from tests.app_support import BOARD_LOG, log_events, screen_text, until
from tests.pty_support import Terminal

OPEN_CALLS = 120
SEED = 11
COLUMNS, LINES = 80, 24


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated centre: the warm-up that opens calls, then some steady traffic."""
    count = warmup_events(OPEN_CALLS, SEED) + 1_500
    path = tmp_path_factory.mktemp("refresh") / "centre.jsonl"
    with path.open("w") as out:
        for event in itertools.islice(generate(count, OPEN_CALLS, SEED), count):
            out.write(json.dumps(event) + "\n")
    return path


def comparable(lines: list[str]) -> list[str]:
    """Screen lines without the connection bar (its source name differs between runs)."""
    return [line.rstrip() for line in lines if "replay finished" not in line]


async def full_redraw(pilot: Pilot[int]) -> list[str]:
    """The screen after every widget was refreshed whole: the reference."""
    app = pilot.app
    for widget in app.screen.query("*"):
        widget.refresh()
    await pilot.pause()
    await pilot.pause()
    return screen_text(app).splitlines()


async def reference_screens(
    log: Path, keys: list[str], size: tuple[int, int] = (COLUMNS, LINES)
) -> list[list[str]]:
    """The final board headless, fully redrawn, then after each of `keys`."""
    app = CallboardApp(fixture_runner(log_events(log), source=log.name), rate=0.0)
    screens = []
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.connection.state == "finished", timeout=120)
        await pilot.pause()
        screens.append(comparable(await full_redraw(pilot)))
        for key in keys:
            await pilot.press(key)
            screens.append(comparable(await full_redraw(pilot)))
    return screens


def board_terminal(
    log: Path, ssh: bool, columns: int = COLUMNS, lines: int = LINES, resizable: bool = False
) -> Terminal:
    env = {name: "" for name in SSH_VARIABLES}
    if resizable:
        # COLUMNS and LINES would pin the size: empty, the board asks the terminal.
        env.update(COLUMNS="", LINES="")
    if ssh:
        env["SSH_CONNECTION"] = "127.0.0.1 50022 127.0.0.1 22"
    return Terminal(["replay", str(log), "--speed", "0"], columns, lines, env=env)


def wait_for_screen(term: Terminal, want: list[str], where: str) -> None:
    """Wait until the terminal shows `want`; the failure names `where` and shows both."""
    try:
        term.wait_for(lambda: comparable(term.screen.display) == want, timeout=60)
    except AssertionError as exc:
        raise AssertionError(f"{where}, expected:\n{show(want)}\n{exc}") from exc


def show(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("ssh", [False, True], ids=["local", "over-ssh"])
async def test_line_by_line_redraws_leave_the_same_screen_as_a_full_redraw(
    sim_log: Path, ssh: bool
) -> None:
    keys = ["2", "1", "s"]
    expected = await reference_screens(sim_log, keys)
    term = board_terminal(sim_log, ssh)
    try:
        term.wait_for(lambda: "replay finished" in term.text(), timeout=120)
        for step, want in enumerate(expected):
            if step:
                term.press(keys[step - 1].encode())
            wait_for_screen(term, want, f"after keys {keys[:step]}")
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()


async def resized_reference_screens(log: Path, sizes: list[tuple[int, int]]) -> list[list[str]]:
    """The final board headless at the first of `sizes`, then resized to each of the rest."""
    app = CallboardApp(fixture_runner(log_events(log), source=log.name), rate=0.0)
    screens = []
    async with app.run_test(size=sizes[0]) as pilot:
        await until(pilot, lambda: app.connection.state == "finished", timeout=120)
        await pilot.pause()
        screens.append(comparable(await full_redraw(pilot)))
        for size in sizes[1:]:
            await pilot.resize_terminal(*size)
            await until(pilot, lambda size=size: tuple(app.size) == size)
            screens.append(comparable(await full_redraw(pilot)))
    return screens


@pytest.mark.slow
async def test_a_wall_screen_stays_right_as_the_header_grows_and_the_terminal_resizes(
    sim_log: Path,
) -> None:
    """A big screen shows the queue table: the header grows as queues appear, which
    moves and resizes every widget below it (they are redrawn from their new size,
    not twice); then the terminal is resized, to a smaller wall screen and back."""
    sizes = [(200, 60), (150, 45), (200, 60)]
    expected = await resized_reference_screens(sim_log, sizes)
    term = board_terminal(sim_log, False, *sizes[0], resizable=True)
    try:
        term.wait_for(lambda: "replay finished" in term.text(), timeout=120)
        for step, (size, want) in enumerate(zip(sizes, expected, strict=True)):
            if step:
                term.resize(*size)
            wait_for_screen(term, want, f"at {size}")
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()


@pytest.mark.parametrize(("ssh", "rate"), [(False, "10"), (True, "2")], ids=["local", "over-ssh"])
def test_the_help_says_how_often_the_screen_is_redrawn(ssh: bool, rate: str) -> None:
    """Over SSH the board redraws twice a second by default; the help says so."""
    term = board_terminal(BOARD_LOG, ssh, 160, 50)  # the whole help on one screen
    try:
        term.wait_for(lambda: "replay finished" in term.text())
        term.press(b"?")
        term.wait_for(lambda: f"at most {rate} times a second" in term.text())
        term.press(b"q")  # closes the help
        term.wait_for(lambda: "times a second" not in term.text())
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()
