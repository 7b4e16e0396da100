"""Usage errors of every command read the same: argparse's usage line, then `PROG: error: ...`.

Some are refused by argparse while parsing (options that exclude each other), others
only after it (a missing file, a URL that does not parse, a board option out of
range); the user cannot tell which, and every one exits with status 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import build_parser
from monitor.commands.serve import _config as serve_config
from monitor.feed.hub import HubConfig
from tests.cli_support import callboard


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["classify", "{tmp}/nope.jsonl"], "nope.jsonl: no such file"),
        (["replay", "{tmp}/nope.jsonl"], "nope.jsonl: no such file"),
        (["watch", "http://127.0.0.1:1/events"], "not a websocket URL"),
        (["watch", "ws://127.0.0.1:1/events", "--service-level", "0"], "--service-level must be"),
        (["tail", "http://127.0.0.1:1/events"], "not a websocket URL"),
        (["simulate", "--speed", "2"], "--speed only applies with --live"),
        (
            ["serve", "--port", "0", "--tls-cert", "cert.pem"],
            "--tls-cert and --tls-key go together",
        ),
        (["serve", "--follow"], "--from and --follow need a log PATH"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else None,
)
def test_an_error_found_after_parsing_reads_like_argparse_s_own(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    command = args[0]
    done = callboard(*(arg.format(tmp=tmp_path) for arg in args))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"usage: callboard {command} "), done.stderr
    assert f"\ncallboard {command}: error: " in done.stderr
    assert problem in done.stderr
    assert "Traceback" not in done.stderr


def test_the_demo_s_board_options_are_checked_like_the_commands_options() -> None:
    done = callboard("--refresh-rate", "0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("usage: callboard ")
    assert "\ncallboard: error: --refresh-rate must be between 0.2 and 60" in done.stderr


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["{log}", "--simulate"], "argument --simulate: not allowed with argument PATH"),
        (["{log}", "--follow", "--loop"], "argument --loop: not allowed with argument --follow"),
    ],
)
def test_serve_refuses_sources_that_exclude_each_other_while_parsing(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    log = tmp_path / "day.jsonl"
    log.write_text("")
    done = callboard("serve", "--port", "0", *(arg.format(log=log) for arg in args))
    assert done.returncode == 2, done.stderr
    assert f"callboard serve: error: {problem}" in done.stderr


def test_serve_with_no_options_configures_the_hub_s_own_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CALLBOARD_TOKEN", raising=False)
    monkeypatch.delenv("CALLBOARD_PUBLISH_TOKEN", raising=False)
    args = build_parser().parse_args(["serve"])
    assert serve_config(args) == HubConfig()


def test_serve_help_shows_the_hub_s_defaults() -> None:
    done = callboard("serve", "--help")
    assert done.returncode == 0, done.stderr
    # The options' descriptions, after the usage line (which names the options too).
    text = " ".join(done.stdout.split("\noptions:", 1)[1].split())
    defaults = HubConfig()
    for option, value in (
        ("--ring N", defaults.ring_size),
        ("--queue-limit N", defaults.queue_limit),
        ("--max-subscribers N", defaults.max_subscribers),
        ("--max-calls N", defaults.max_calls),
        ("--max-frame BYTES", defaults.max_frame),
    ):
        assert option in text
        assert f"(default {value})" in text.split(option, 1)[1].split("--", 1)[0], option


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        # An hour count of infinity ran into an OverflowError traceback.
        (["simulate", "--hours", "inf"], "argument --hours: must be a finite number, got inf"),
        (["simulate", "--agents", "0"], "argument --agents: must be more than zero, got 0"),
        # argparse named the validator function: "invalid _positive_int value: 'x'".
        (["serve", "--ring", "x"], "argument --ring: not a whole number: 'x'"),
        (["serve", "--call-expiry", "inf"], "argument --call-expiry: must be a finite number"),
        (["tail", "ws://127.0.0.1:1", "--since", "-1"], "argument --since: must be 0 or more"),
        (["replay", "x.jsonl", "--max-gap", "-1"], "argument --max-gap: must be 0 or more seconds"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_numeric_options_are_checked_by_one_rule(args: list[str], problem: str) -> None:
    done = callboard(*args)
    assert done.returncode == 2, done.stderr
    assert f"callboard {args[0]}: error: {problem}" in done.stderr
    assert "Traceback" not in done.stderr
