"""Starting the board from the command line: shared options and a clean run.

`watch`, `replay` and the no-argument demo all end here, so they share options
(`--mask-numbers`, thresholds, `--refresh-rate`, `--wall`) and the same exit behaviour.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from classifier.kpi import SERVICE_LEVEL_S, KpiSettings
from monitor.agent_names import AgentNames
from monitor.app.feed import FeedRunner
from monitor.app.view import WALL_PAGE_S
from monitor.commands.options import (
    UsageError,
    add_day_options,
    add_mask_option,
    bounded,
    day_clock,
)
from monitor.config.options import add_config_option, config_from, kpi_settings
from monitor.targets import Targets

page_seconds = bounded(float, 1.0, must="must be 1 second or more", what="number of seconds")

#: Repaints per second at most on a local terminal: the feed-to-screen latency goal
#: (p99 under 250 ms at 1,000 events a second) needs ten.
LOCAL_REFRESH_HZ = 10.0
#: Over SSH every repaint is paid for in bandwidth; a board read across a room loses
#: nothing at two (clocks tick in whole seconds), and its output falls about fivefold.
SSH_REFRESH_HZ = 2.0
#: Variables an SSH server sets in the session it starts (SSH_TTY only with a pty).
SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")
REFRESH_RANGE = (0.2, 60.0)


def add_board_options(parser: argparse.ArgumentParser, *, follows_hub: bool = False) -> None:
    """Options every board command takes; `follows_hub` for a board that shows a hub's day."""
    group = parser.add_argument_group("board")
    add_day_options(group, follows_hub=follows_hub)
    add_mask_option(group, "callers", "for open-plan screens")
    group.add_argument(
        "--refresh-rate",
        type=float,
        default=None,
        metavar="HZ",
        help=(
            f"repaints per second at most (default {LOCAL_REFRESH_HZ:g}, or "
            f"{SSH_REFRESH_HZ:g} when run over SSH, to spare the connection)"
        ),
    )
    group.add_argument(
        "--wall",
        action="store_true",
        help="start in wall mode: big-digit tiles for a TV across the room (W switches)",
    )
    group.add_argument(
        "--wall-page-s",
        type=page_seconds,
        default=WALL_PAGE_S,
        metavar="SECONDS",
        help=f"seconds each page of queues stays on the wall (default {WALL_PAGE_S:g})",
    )
    add_threshold_options(parser)


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """The service-level thresholds, read by `settings_from`: every board, and `report`.

    With `--config`: the file's targets, which these flags override.
    """
    add_config_option(parser)
    group = parser.add_argument_group("service level")
    group.add_argument(
        "--service-level",
        type=float,
        default=None,
        metavar="SECONDS",
        help=(
            "service-level threshold in seconds (default: the config file's "
            f'[queues."*"] sl_threshold_s, else {SERVICE_LEVEL_S:g})'
        ),
    )
    group.add_argument(
        "--queue-threshold",
        action="append",
        default=[],
        metavar="QUEUE=SECONDS",
        help=(
            "service-level threshold of one queue (repeatable); on a board of several "
            "sites QUEUE is that queue at every site, SITE/QUEUE at one site only, and "
            "SITE/QUEUE wins"
        ),
    )


def settings_from(args: argparse.Namespace) -> KpiSettings:
    """KPI settings out of the board options over the config file's targets.

    Raises ValueError naming a bad option (UsageError for a bad config file).
    """
    service_level: float | None = getattr(args, "service_level", None)
    if service_level is not None and service_level <= 0:
        raise ValueError("--service-level must be a positive number of seconds")
    queues: dict[str, float] = {}
    for item in getattr(args, "queue_threshold", []):
        name, sep, value = item.partition("=")
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not name or seconds <= 0:
            raise ValueError(f"--queue-threshold {item!r}: expected QUEUE=SECONDS, e.g. sales=30")
        queues[name] = seconds
    return kpi_settings(config_from(args), service_level, queues)


def over_ssh(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process runs in an SSH session (its terminal is at the far end)."""
    return any(environ.get(name) for name in SSH_VARIABLES)


def refresh_rate_from(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> float:
    """Repaints per second: `--refresh-rate`, else the default for where the terminal is.

    Raises ValueError naming the option when it is out of range.
    """
    rate: float | None = args.refresh_rate
    if rate is None:
        rate = config_from(args).board.refresh_rate_hz
    if rate is None:
        return SSH_REFRESH_HZ if over_ssh(environ) else LOCAL_REFRESH_HZ
    low, high = REFRESH_RANGE
    if not low <= rate <= high:  # also false for nan
        raise ValueError(f"--refresh-rate must be between {low:g} and {high:g} repaints a second")
    return rate


def run_board(
    runner: FeedRunner,
    args: argparse.Namespace,
    rate: float = 1.0,
    source: str = "",
    live: bool = False,
) -> int:
    """Run the wallboard until the user quits; the exit status of the command.

    0 when the user quit, 128 + the signal that ended it, and 1 when the board
    crashed (Textual has then printed the traceback). A bad board option raises
    `UsageError` (exit status 2 from `monitor.cli.main`).
    `live`: the feed is live (watch, the demo), so its clock follows the wall clock.
    """
    # Textual is imported here so that `callboard --help` and the other commands
    # start quickly.
    from monitor.app.alerts import BoardAlerts
    from monitor.app.app import CallboardApp
    from monitor.app.remember import load_choices, restore, save_choices, state_path
    from monitor.board import Board

    try:
        settings = settings_from(args)
        refresh_hz = refresh_rate_from(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    mask: bool | None = getattr(args, "mask_numbers", None)
    if mask is None:
        mask = bool(config_from(args).board.mask_numbers)
    config = config_from(args)
    rules = config.alerts.alert_rules()
    alerts = (
        BoardAlerts(rules, bell=config.alerts.bell, desktop=config.alerts.desktop)
        if rules
        else None
    )
    app = CallboardApp(
        runner,
        board=Board(settings, clock=day_clock(args)),
        alerts=alerts,
        rate=rate,
        mask=mask,
        repaint_hz=refresh_hz,
        source=source,
        live=live,
        wall=args.wall,
        wall_page_s=args.wall_page_s,
        panels=config.board.outcomes,
        agent_thresholds=config.agent_targets.thresholds(),
    )
    # The centre's targets (callboard.toml [queues]) judge waits, SL and abandon rate;
    # a centre that set none keeps the service-level threshold's judgement of waits.
    if config.queues:
        app.board.targets = Targets(config)
    app.board.agent_names = AgentNames(config.agents)
    # The user's last theme, sort and filters; a [board] key wins over them.
    store = state_path()
    saved, problem = load_choices(store)
    if problem is not None:
        app.board.problem(problem)
    theme = restore(app.view, saved, config.board)
    if theme is not None and theme in app.available_themes:
        app.theme = theme
    elif theme is not None and theme == config.board.theme:
        themes = ", ".join(sorted(app.available_themes))
        raise UsageError(f"[board] theme {theme!r} is not a theme: one of {themes}")
    elif theme is not None:
        app.board.problem(f"saved theme {theme!r} is not a theme any more: the default is used")
    code = app.run()
    try:
        save_choices(store, app.view, app.theme)
    except OSError as exc:
        print(f"callboard: board choices not saved to {store}: {exc}", file=sys.stderr)
    if app.stopped_by is not None:
        return 128 + int(app.stopped_by)
    # `run()` gives the app's result, which a crash leaves at None: the exit status of
    # a crash is Textual's return code (1 after an unhandled exception).
    return app.return_code or int(code or 0)
