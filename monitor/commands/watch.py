"""`callboard watch`: the wallboard following a running hub."""

from __future__ import annotations

import argparse

from monitor.app.launch import add_board_options, run_board
from monitor.commands.nats_options import (
    add_nats_watch_options,
    check_no_nats_watch_options,
    is_nats_url,
    nats_watch_config,
)
from monitor.commands.options import AddParser, UsageError, day_clock
from monitor.feed.tokens import add_token_options, resolve_token


def run(args: argparse.Namespace) -> int:
    """Run `callboard watch`: the board following the hub at `args.url`, or several hubs.

    A URL that is not ws:// or wss://, or a `#site` that is not a site name, raises
    `UsageError` (exit status 2); otherwise the board's status (0, 128 + the signal
    that ended it). Several URLs (or one with `#site`) make one board of their sites
    (`monitor.app.sites_feed`).
    """
    from monitor.app.hub_feed import hub_runner
    from monitor.app.launch import settings_from
    from monitor.app.sites_feed import hub_address, sites_runner
    from monitor.feed.client import events_url

    urls: list[str] = args.url
    if any(is_nats_url(url) for url in urls):
        return _watch_nats(urls, args)
    check_no_nats_watch_options(args)
    token = resolve_token(args.token)
    if len(urls) == 1 and "#" not in urls[0] and "," not in urls[0]:
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
    try:
        # The board's thresholds, which the sites' merged day carries (`merge_days`).
        settings = settings_from(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    runner = sites_runner(hubs, token=token, settings=settings)
    source = " ".join(hub.url for hub in hubs)
    return run_board(runner, args, rate=1.0, source=source, live=True)


def _watch_nats(urls: list[str], args: argparse.Namespace) -> int:
    """`callboard watch nats://... --sites a,b`: each site read from its stream, one board.

    NATS unreachable, or a site without a stream, is a UsageError (exit 2) naming it,
    before the board starts (`monitor.app.nats_sites`).
    """
    import asyncio

    from classifier.day import DayClock
    from monitor.app.launch import settings_from
    from monitor.app.nats_sites import check_sites, nats_sites_runner
    from monitor.config.options import config_from, rules_from
    from monitor.feed.hub import HubConfig
    from monitor.feed.nats_config import NatsUnavailable

    if not all(is_nats_url(url) for url in urls):
        raise UsageError("give either hubs (ws://, wss://) or NATS servers (nats://, tls://)")
    config, sites = nats_watch_config(urls, args)
    try:
        hub = HubConfig(
            day_clock=day_clock(args) or DayClock(),
            settings=settings_from(args),
            rules=rules_from(config_from(args)),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        asyncio.run(check_sites(config, sites))
    except NatsUnavailable as exc:
        raise UsageError(str(exc)) from None
    runner = nats_sites_runner(config, sites, hub)
    return run_board(runner, args, rate=1.0, source=config.url, live=True)


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
        "named by its hub (serve --site) or by URL#site; hubs of one site to fail over "
        "between as URL1,URL2#site; or NATS servers, nats://HOST:PORT "
        "(with --sites), to read the sites from their streams with no hub in between",
    )
    add_token_options(parser, what="bearer token the hub asks for")
    add_nats_watch_options(parser)
    add_board_options(parser, follows_hub=True)
    parser.set_defaults(func=run)
