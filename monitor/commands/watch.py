"""`callboard watch`: the wallboard following a running hub."""

from __future__ import annotations

import argparse

from monitor.app.launch import add_board_options, run_board
from monitor.commands.options import AddParser, UsageError
from monitor.feed.tokens import add_token_options, resolve_token


def run(args: argparse.Namespace) -> int:
    """Run `callboard watch`: the board following the hub at `args.url`, or several hubs.

    A URL that is not ws:// or wss://, or a `#site` that is not a site name, raises
    `UsageError` (exit status 2); otherwise the board's status (0, 128 + the signal
    that ended it). Several URLs (or one with `#site`) make one board of their sites
    (`monitor.app.sites_feed`).
    """
    from monitor.app.hub_feed import hub_runner
    from monitor.app.sites_feed import hub_address, sites_runner
    from monitor.feed.client import events_url

    urls: list[str] = args.url
    token = resolve_token(args.token)
    if len(urls) == 1 and "#" not in urls[0]:
        try:
            url = events_url(urls[0])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return run_board(hub_runner(url, token=token), args, rate=1.0, source=url, live=True)
    hubs = []
    for text in urls:
        try:
            hubs.append(hub_address(text))
        except ValueError as exc:
            raise UsageError(f"{text[:80]!r}: {exc}") from None
    named = [hub.site for hub in hubs if hub.site is not None]
    if len(named) != len(set(named)):
        raise UsageError("two hubs are given the same #site: give each its own")
    source = " ".join(hub.url for hub in hubs)
    return run_board(sites_runner(hubs, token=token), args, rate=1.0, source=source, live=True)


def register(add_parser: AddParser) -> None:
    """Add the `callboard watch` subcommand (board options included) with `add_parser`."""
    parser = add_parser(
        "watch",
        help="show the wallboard for a running hub",
        description=(
            "Follow a hub (callboard serve) over its websocket and show the live "
            "wallboard. Reconnects on its own when the hub goes away. Given several hubs "
            "(one per site), shows one board of all sites: queues as site/queue, each "
            "site's day and the total. Keys: ? on the board."
        ),
    )
    parser.add_argument(
        "url",
        nargs="+",
        help="the hub, e.g. ws://127.0.0.1:8765/events; several for several sites, each "
        "named by its hub (serve --site) or by URL#site",
    )
    add_token_options(parser, what="bearer token the hub asks for")
    add_board_options(parser, follows_hub=True)
    parser.set_defaults(func=run)
