"""`callboard replay`: play a log on the wallboard, through an embedded hub."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.app.launch import add_board_options, run_board


def run(args: argparse.Namespace) -> int:
    from monitor.app.hub_feed import embedded_runner
    from monitor.replay_source import ReplaySource

    path = Path(args.path)
    if not path.is_file():
        print(f"callboard replay: {args.path}: no such file")
        return 2
    if args.speed < 0:
        print("callboard replay: --speed must be 0 (as fast as possible) or positive")
        return 2
    runner = embedded_runner(
        lambda report: ReplaySource(
            path, speed=args.speed, max_gap=args.max_gap, on_problem=report
        ),
        label=str(path),
    )
    return run_board(runner, args, rate=args.speed, source=str(path))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="play a log on the wallboard",
        description=(
            "Replay a JSON Lines event log on the wallboard through an embedded hub "
            "(the same path as a live feed). The board stays open on the final state, "
            "marked finished, until you press q."
        ),
    )
    parser.add_argument("path", help="log file (plain or .gz)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="times real time (default 1; 0 applies the log as fast as it can)",
    )
    parser.add_argument(
        "--max-gap",
        type=float,
        default=None,
        metavar="SECONDS",
        help="never wait longer than this between two events (skip quiet stretches)",
    )
    add_board_options(parser)
    parser.set_defaults(func=run)
