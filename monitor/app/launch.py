"""Starting the board from the command line: shared options and a clean run.

`watch`, `replay` and the no-argument demo all end here, so they share options
(`--mask-numbers`, thresholds) and the same exit behaviour.
"""

from __future__ import annotations

import argparse
import sys

from classifier.kpi import SERVICE_LEVEL_S, KpiSettings
from monitor.app.feed import FeedRunner


def add_board_options(parser: argparse.ArgumentParser) -> None:
    """Options every board command takes."""
    group = parser.add_argument_group("board")
    group.add_argument(
        "--mask-numbers",
        action="store_true",
        help="show callers as +1 415 ••• ••01 (for open-plan screens)",
    )
    group.add_argument(
        "--service-level",
        type=float,
        default=SERVICE_LEVEL_S,
        metavar="SECONDS",
        help=f"service-level threshold in seconds (default {SERVICE_LEVEL_S:g})",
    )
    group.add_argument(
        "--queue-threshold",
        action="append",
        default=[],
        metavar="QUEUE=SECONDS",
        help="service-level threshold of one queue (repeatable)",
    )


def settings_from(args: argparse.Namespace) -> KpiSettings:
    """KPI settings out of the board options; raises ValueError naming a bad one."""
    if args.service_level <= 0:
        raise ValueError("--service-level must be a positive number of seconds")
    queues: dict[str, float] = {}
    for item in args.queue_threshold:
        name, sep, value = item.partition("=")
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not name or seconds <= 0:
            raise ValueError(f"--queue-threshold {item!r}: expected QUEUE=SECONDS, e.g. sales=30")
        queues[name] = seconds
    return KpiSettings(service_level_s=args.service_level, queue_service_level_s=queues)


def run_board(
    runner: FeedRunner, args: argparse.Namespace, rate: float = 1.0, source: str = ""
) -> int:
    """Run the wallboard until the user quits; the exit status of the command."""
    # Textual is imported here so that `callboard --help` and the other commands
    # start quickly.
    from monitor.app.app import CallboardApp

    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"callboard: {exc}", file=sys.stderr)
        return 2
    app = CallboardApp(runner, settings=settings, rate=rate, mask=args.mask_numbers, source=source)
    code = app.run()
    if app.stopped_by is not None:
        return 128 + int(app.stopped_by)
    return int(code or 0)
