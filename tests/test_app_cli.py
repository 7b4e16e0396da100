"""The board commands' argument handling: clear messages, status 2, no board started."""

from __future__ import annotations

import pytest

from monitor.cli import main
from tests.app_support import BOARD_LOG


def test_replay_of_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "no/such/log.jsonl"]) == 2
    assert "no/such/log.jsonl: no such file" in capsys.readouterr().err


def test_replay_with_a_negative_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BOARD_LOG), "--speed", "-1"]) == 2
    assert "--speed must be 0" in capsys.readouterr().err


def test_replay_with_a_bad_gap(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", str(BOARD_LOG), "--max-gap", "soon"])
    assert exit_info.value.code == 2
    assert "not a number of seconds: 'soon'" in capsys.readouterr().err


def test_watch_needs_a_websocket_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "http://127.0.0.1:8765"]) == 2
    assert "not a websocket URL" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["sales", "sales=", "=20", "sales=-3", "sales=soon"])
def test_a_bad_queue_threshold_is_named(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BOARD_LOG), "--queue-threshold", bad]) == 2
    assert f"--queue-threshold {bad!r}: expected QUEUE=SECONDS" in capsys.readouterr().err


def test_service_level_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "ws://127.0.0.1:1/events", "--service-level", "0"]) == 2
    assert "--service-level must be a positive number" in capsys.readouterr().err


def test_help_lists_the_board_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "watch" in out and "replay" in out and "With no command, shows the" in out


def test_the_demo_takes_the_board_options_and_checks_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--service-level", "0"]) == 2
    assert "--service-level must be a positive number" in capsys.readouterr().err
