"""A reader of stdout that goes away (`callboard classify LOG | head`) ends a command with 0.

Every command goes through `monitor.cli.main`, which handles the broken pipe once:
no traceback, no "Exception ignored" from the flush at exit, exit status 0. The
pipe's reading end is closed before the command starts, so its first write fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import start_callboard
from tests.hub_support import DEADLINE, ServeProcess


def run_into_a_closed_pipe(*args: str) -> tuple[int, str]:
    """Run `callboard ARGS` with a stdout nobody reads any more: its status and stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = start_callboard(*args, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=DEADLINE)
    return proc.returncode, err


@pytest.mark.parametrize(
    "args",
    [
        # The JSON Schema: this command had no handling, and ended in a traceback (1).
        ["schema"],
        ["classify", "{log}"],
        ["simulate", "--hours", "1", "-q"],
    ],
    ids=lambda args: args[0],
)
def test_a_command_whose_reader_went_away_ends_quietly(rules_log: Path, args: list[str]) -> None:
    status, err = run_into_a_closed_pipe(*(arg.format(log=rules_log) for arg in args))
    assert status == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "BrokenPipeError" not in err


@pytest.mark.slow
def test_tail_whose_reader_went_away_ends_quietly(rules_log: Path) -> None:
    hub = ServeProcess([str(rules_log), "--port", "0", "--speed", "0"])
    try:
        status, err = run_into_a_closed_pipe("tail", hub.url, "--since", "0", "--until-finished")
    finally:
        assert hub.terminate() == 0
    assert status == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
