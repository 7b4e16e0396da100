"""`callboard replay`: play a log on the wallboard, the log read in the board's own process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.app.feed import FeedRunner
from monitor.app.launch import add_board_options, run_board
from monitor.commands.options import AddParser, UsageError, bounded
from monitor.sources import CALLBOARD, FORMATS, FormatError, choose_format

#: Longest wait between two replayed events, by default (feed time is not affected).
DEFAULT_MAX_GAP = 5.0


_seconds = bounded(float, 0.0, must="must be 0 or more seconds", what="number of seconds")


def _gap(value: str) -> float | None:
    """--max-gap: seconds, or 'none' to keep every gap."""
    if value.strip().lower() == "none":
        return None
    return _seconds(value)


def replay_runner(
    path: Path, speed: float, max_gap: float | None = DEFAULT_MAX_GAP, fmt: str = CALLBOARD
) -> FeedRunner:
    """The board's feed for `callboard replay`: the log paced by `ReplaySource`, in-process.

    Each bad line of the log goes on the board's problem list as it is read.
    """
    from monitor.app.local_feed import local_runner
    from monitor.sources.replay_source import ReplaySource

    return local_runner(
        lambda report: ReplaySource(path, speed=speed, max_gap=max_gap, on_problem=report, fmt=fmt),
        label=str(path),
    )


def run(args: argparse.Namespace) -> int:
    """Run `callboard replay`: the log played on the board until the user quits.

    A missing file, a format that cannot be told or a negative --speed raises
    `UsageError` (exit status 2); otherwise the board's status (0, 128 + a signal).
    """
    path = Path(args.path)
    try:
        fmt, detected = choose_format(path, args.source_format)
    except FormatError as exc:
        raise UsageError(str(exc)) from None
    if detected and fmt != CALLBOARD:
        print(f"callboard replay: detected format: {fmt}", file=sys.stderr)
    if args.speed < 0:
        raise UsageError("--speed must be 0 (as fast as possible) or positive")
    runner = replay_runner(path, args.speed, args.max_gap, fmt)
    return run_board(runner, args, rate=args.speed, source=str(path))


def register(add_parser: AddParser) -> None:
    """Add the `callboard replay` subcommand (board options included) with `add_parser`."""
    parser = add_parser(
        "replay",
        help="play a log on the wallboard",
        description=(
            "Replay an event log on the wallboard: the log is read and paced in the "
            "board's own process and every event goes through the same state machine as "
            "a live feed (no hub is started). The board stays open on the final state, "
            "marked finished, until you press q."
        ),
    )
    parser.add_argument(
        "path",
        help="log to play: callboard JSON Lines (plain or .gz), an Asterisk queue_log, "
        "or Exotel call records (a file or a directory)",
    )
    parser.add_argument(
        "--from",
        dest="source_format",
        choices=FORMATS,
        default=None,
        help="the log's format (default: detected from its content)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="times real time (default 1; 0 applies the log as fast as it can)",
    )
    parser.add_argument(
        "--max-gap",
        type=_gap,
        default=DEFAULT_MAX_GAP,
        metavar="SECONDS",
        help=(
            f"shorten quiet stretches between two events to this (default {DEFAULT_MAX_GAP:g} s, "
            "so a day's log shows calls at once; 'none' keeps every gap)"
        ),
    )
    add_board_options(parser)
    parser.set_defaults(func=run)
