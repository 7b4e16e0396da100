"""`callboard watch`: the wallboard following a running hub."""

from __future__ import annotations

import argparse

from monitor.app.launch import add_board_options, run_board
from monitor.commands.options import AddParser, UsageError
from monitor.feed.tokens import add_token_options, resolve_token


def run(args: argparse.Namespace) -> int:
    """Run `callboard watch`: the board following the hub at `args.url`.

    A URL that is not ws:// or wss:// raises `UsageError` (exit status 2); otherwise
    the board's status (0, 128 + the signal that ended it).
    """
    from monitor.app.hub_feed import hub_runner
    from monitor.feed.client import events_url

    try:
        url = events_url(args.url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    token = resolve_token(args.token)
    return run_board(hub_runner(url, token=token), args, rate=1.0, source=url, live=True)


def register(add_parser: AddParser) -> None:
    """Add the `callboard watch` subcommand (board options included) with `add_parser`."""
    parser = add_parser(
        "watch",
        help="show the wallboard for a running hub",
        description=(
            "Follow a hub (callboard serve) over its websocket and show the live "
            "wallboard. Reconnects on its own when the hub goes away. Keys: ? on the board."
        ),
    )
    parser.add_argument("url", help="the hub, e.g. ws://127.0.0.1:8765/events")
    add_token_options(parser, what="bearer token the hub asks for")
    add_board_options(parser, follows_hub=True)
    parser.set_defaults(func=run)
