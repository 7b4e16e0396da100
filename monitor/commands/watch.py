"""`callboard watch`: the wallboard following a running hub."""

from __future__ import annotations

import argparse
import os
import sys

from monitor.app.launch import add_board_options, run_board

TOKEN_ENV = "CALLBOARD_TOKEN"


def run(args: argparse.Namespace) -> int:
    """Run `callboard watch`: the board following the hub at `args.url`.

    Exit status 2 for a URL that is not ws:// or wss://; otherwise the board's (0,
    2 for a bad board option, 128 + the signal that ended it).
    """
    from monitor.app.hub_feed import hub_runner
    from monitor.feed import events_url

    try:
        url = events_url(args.url)
    except ValueError as exc:
        print(f"callboard watch: {exc}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get(TOKEN_ENV) or None
    return run_board(hub_runner(url, token=token), args, rate=1.0, source=url, live=True)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `callboard watch` subcommand, with the board options, to `subparsers`."""
    parser = subparsers.add_parser(
        "watch",
        help="show the wallboard for a running hub",
        description=(
            "Follow a hub (callboard serve) over its websocket and show the live "
            "wallboard. Reconnects on its own when the hub goes away. Keys: ? on the board."
        ),
    )
    parser.add_argument("url", help="the hub, e.g. ws://127.0.0.1:8765/events")
    parser.add_argument(
        "--token",
        default=None,
        help=f"bearer token the hub asks for (default: ${TOKEN_ENV})",
    )
    add_board_options(parser)
    parser.set_defaults(func=run)
