"""`callboard serve`: run a hub that wallboards and `callboard tail` subscribe to."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from typing_extensions import override

from classifier.day import DayClock
from classifier.schema import Event
from monitor.commands.esl_options import add_esl_options, check_esl_options, esl_source
from monitor.commands.nats_options import add_nats_options, nats_config
from monitor.commands.options import (
    AddParser,
    UsageError,
    add_day_options,
    bounded,
    day_clock,
    site_name,
)
from monitor.config.hub import hub_alerts
from monitor.config.options import add_config_option, config_from, kpi_settings, rules_from
from monitor.feed.collector import pace_collector
from monitor.feed.hub import Hub, HubConfig
from monitor.feed.journal import JournalError
from monitor.feed.nats_config import NatsUnavailable
from monitor.feed.tokens import PUBLISH_TOKEN_ENV, TOKEN_ENV, add_token_options, resolve_token
from monitor.hooks.options import add_hooks_options, hooks_config
from monitor.sources import FORMATS
from monitor.sources.ami_client import AmiSource
from monitor.sources.replay_source import ReplaySource
from monitor.sources.source import Source
from monitor.text.safe_text import clean

log = logging.getLogger("callboard.serve")

#: The hub's defaults, which serve's options take (and --help shows) rather than repeat.
DEFAULTS = HubConfig()


class _CleanFormatter(logging.Formatter):
    """Log lines quote other people's input: keep escape sequences off the terminal."""

    @override
    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record), limit=None)


def _setup_logging(verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _CleanFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger("callboard")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if verbosity < 0 else logging.INFO)
    root.propagate = False
    # websockets logs every refused handshake at INFO; our own log says why, once.
    logging.getLogger("websockets").setLevel(logging.DEBUG if verbosity > 0 else logging.ERROR)
    if verbosity > 0:
        logging.getLogger("websockets").addHandler(handler)


def _config(args: argparse.Namespace) -> HubConfig:
    return HubConfig(
        host=args.host,
        port=args.port,
        token=resolve_token(args.token, TOKEN_ENV),
        publish_token=resolve_token(args.publish_token, PUBLISH_TOKEN_ENV),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        journal=args.journal,
        journal_fsync=args.journal_fsync,
        journal_keep_days=args.keep_days,
        nats=nats_config(args),
        ring_size=args.ring,
        queue_limit=args.queue_limit,
        max_frame=args.max_frame,
        max_subscribers=args.max_subscribers,
        max_producers=args.max_producers,
        producer_idle_timeout=args.producer_idle_timeout,
        open_timeout=args.open_timeout,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        socket_send_buffer=args.send_buffer,
        catchup_timeout=args.catchup_timeout,
        max_calls=args.max_calls,
        call_expiry=args.call_expiry * 3600 or None,
        day_clock=day_clock(args) or DayClock(),
        rules=rules_from(config_from(args)),
        # The file's thresholds as they apply to this site (`[queues.sales]` at every
        # site, `[queues."a/sales"]` at site a): one file for the hubs and their board.
        settings=kpi_settings(config_from(args), None, {}).for_site(args.site),
        alerts=hub_alerts(config_from(args), site=args.site),
        site=args.site,
        compression=args.compress,
    )


class SimulatorSource:
    """The live simulator as a hub source (it cannot resume: a restart starts a new run).

    It reads no input, so it skips none, and names no position (a `monitor.sources.source.Source`).
    """

    kind = "simulator"
    problems = 0
    position: dict[str, Any] | None = None

    def __init__(self, args: argparse.Namespace, hub_seq: int) -> None:
        """`hub_seq`: the hub's seq as the simulator starts (above 0 after a journaled
        restart)."""
        from monitor.commands.simulate import config_from_args

        args.live = True
        if hub_seq > 0 and args.id_prefix is None:
            # A journaled hub restarted: the same seed would bring back call ids that
            # have already ended, which the tracker must refuse. Mark this run's ids with
            # the seq it starts at, which no earlier run of this hub can have had.
            args.id_prefix = f"sim{hub_seq}-"
        self.config = config_from_args(args)
        self.speed = args.speed
        self.name = f"{args.preset} seed {self.config.seed}"

    def __aiter__(self) -> AsyncIterator[Event]:
        from monitor.sim.live import live_events

        return aiter(live_events(self.config, self.speed))


def _simulator_source(args: argparse.Namespace, hub_seq: int) -> Source:
    return SimulatorSource(args, hub_seq)


def _source(args: argparse.Namespace, hub: Hub) -> Source | None:
    if args.ami is not None:
        # Typed here so that mypy holds the AMI link to the hub's Source protocol.
        ami: AmiSource = args.ami_source
        return ami
    if args.simulate:
        return _simulator_source(args, hub.seq)
    if args.path is None:
        return None
    if args.follow:
        from monitor.sources import FollowSource

        return FollowSource(
            args.path,
            args.source_format,
            from_start=args.from_start,
            on_problem=lambda text: log.warning("%s", text),
        )
    return ReplaySource(
        args.path,
        speed=args.speed,
        loop=args.loop,
        max_gap=args.max_gap,
        fmt=args.source_format,
    )


def _resolve_format(args: argparse.Namespace) -> None:
    """Sets `args.source_format` from --from or the content; `UsageError` if it cannot."""
    from monitor.sources import FormatError, choose_format

    if args.follow and args.source_format is None and not Path(args.path).exists():
        # A log that does not exist yet can be followed, but not sniffed.
        raise UsageError("--follow on a file that does not exist yet needs --from FORMAT")
    if args.follow and args.source_format is not None:
        return
    try:
        args.source_format, detected = choose_format(args.path, args.source_format)
    except FormatError as exc:
        raise UsageError(str(exc)) from None
    if detected:
        print(f"callboard serve: detected format: {args.source_format}", file=sys.stderr)


async def _report(hub: Hub, every: float) -> None:
    """A progress line now and then, so an operator can see the hub is alive and busy."""
    while True:
        await asyncio.sleep(every)
        stats = hub.stats()
        source = stats["source"]
        log.info(
            "seq %d, %d calls in progress, %d subscribers (largest queue %d), source %s %s",
            stats["seq"],
            stats["calls_in_progress"],
            stats["subscribers"],
            stats["largest_queue"],
            source["kind"],
            source["state"],
        )


#: Descriptors the hub needs besides its peers: listening sockets, journal, log, stdio.
SPARE_FILES = 64


def _ensure_open_files(config: HubConfig) -> None:
    """Raise the open-file limit to cover every peer the hub admits, or say it cannot.

    Each peer is a descriptor. Below `max_subscribers + max_producers` the process
    runs out of descriptors before the hub reaches its own limits: accept() fails in
    a loop and the server logs an error each time, instead of refusing with a reason.
    """
    try:
        import resource
    except ImportError:  # not a Unix: nothing to check
        return
    need = config.max_subscribers + config.max_producers + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("open-file limit raised from %d to %d", soft, target)
    if target < need:
        log.warning(
            "open-file limit %d is below the %d the hub may need (max subscribers %d + "
            "max producers %d + %d): lower --max-subscribers or raise ulimit -n",
            target,
            need,
            config.max_subscribers,
            config.max_producers,
            SPARE_FILES,
        )


async def _start_receiver(args: argparse.Namespace, hub: Hub) -> Any:
    """The webhook receiver (`monitor.hooks`) when --hooks is given, started; else None."""
    if args.hooks_config is None:
        return None
    from monitor.hooks.server import HookReceiver

    receiver = HookReceiver(hub, args.hooks_config)
    try:
        await receiver.start()
    except OSError as exc:
        await hub.stop()
        where = f"{args.hooks[0]}:{args.hooks[1]}"
        raise UsageError(f"cannot listen for webhooks on {where}: {exc}") from None
    print(f"callboard serve: webhooks on {receiver.base_url}/hooks/", file=sys.stderr, flush=True)
    return receiver


async def _serve(args: argparse.Namespace) -> int:
    config = _config(args)
    # The event socket's first login, before the hub listens: refused is exit 2.
    esl = await esl_source(args) if args.esl is not None else None
    _ensure_open_files(config)
    hub = Hub(config)
    try:
        await hub.start()
    except (JournalError, NatsUnavailable) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"callboard serve: hub {hub.hub_id} listening on {hub.url} "
        f"(publish on {hub.publish_url}, seq {hub.seq})",
        file=sys.stderr,
        flush=True,
    )
    if config.host not in ("127.0.0.1", "::1", "localhost"):
        if config.token is None and config.publish_token is None:
            log.warning(
                "listening on %s without a token: anyone who can reach it can publish",
                config.host,
            )
        elif config.publish_token is None:
            log.warning(
                "listening on %s with one token: every subscriber can also publish "
                "(--publish-token-file gives publishing a token of its own)",
                config.host,
            )
    if args.ami is not None:
        from monitor.commands.ami_options import connect_ami

        try:
            args.ami_source = await connect_ami(args, lambda text: log.warning("%s", text))
        except UsageError:
            await hub.stop()
            raise
    receiver = await _start_receiver(args, hub)
    reporter = asyncio.create_task(_report(hub, args.stats_interval))
    try:
        source = esl if esl is not None else _source(args, hub)
        if source is not None:
            hub.attach_source(source)
        await stop.wait()
        log.info("shutting down: closing every connection")
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        if receiver is not None:
            await receiver.stop()
        await hub.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print(f"callboard serve: hub {hub.hub_id} stopped at seq {hub.seq}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run `callboard serve` until SIGINT or SIGTERM; 0 after a clean stop.

    Options that do not go together or are out of range, a log whose format cannot
    be told, an unusable journal, or an address it cannot listen on raise
    `UsageError` (exit status 2). A log PATH with --simulate, and --follow with
    --loop, are refused by argparse (mutually exclusive groups).
    """
    if args.ami is not None:
        from monitor.commands.ami_options import check_ami

        check_ami(args)
    if (args.follow or args.source_format) and args.path is None:
        raise UsageError("--from and --follow need a log PATH")
    check_esl_options(args)
    nats_config(args)  # --nats options that do not go together: exit 2 before any I/O
    config_from(args)  # a bad callboard.toml is a usage error before the hub starts
    if args.path is not None:
        _resolve_format(args)
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.speed < 0:
        raise UsageError("--speed must be 0 or more")
    if args.max_gap is not None and not args.max_gap >= 0:
        raise UsageError("--max-gap must be 0 or more seconds")
    if args.simulate and args.speed == 0:
        raise UsageError("--simulate runs in real time: --speed must be above 0")
    if args.simulate:
        from monitor.commands.simulate import config_from_args

        # Raises UsageError naming the option the simulator cannot take.
        config_from_args(argparse.Namespace(**{**vars(args), "live": True}))
    args.hooks_config = hooks_config(args)
    _setup_logging(args.verbose - args.quiet)
    pace_collector()  # the young generation less often (monitor.feed.collector)
    return asyncio.run(_serve(args))


#: The ranges of serve's numeric options (see `bounded`).
_positive_int = bounded(int, 1)
_positive_seconds = bounded(float, 0.0, above=True, must="must be a number of seconds above 0")
_positive_float = bounded(float, 0.0, above=True, must="must be a number above 0")
_hours_or_never = bounded(float, 0.0, must="must be 0 (never) or more hours")


def register(add_parser: AddParser) -> None:
    """Add the `callboard serve` subcommand with `add_parser`, simulator options included."""
    from monitor.commands.simulate import centre_options

    parser = add_parser(
        "serve",
        help="run a hub: replay a log, simulate, or relay producers to subscribers",
        description=(
            "Run a websocket hub. Subscribers (wallboards, `callboard tail`) connect to "
            "/events; producers publish schema v1 events on /publish. With PATH the hub "
            "replays that log; with --simulate it runs the simulator; with neither it only "
            "relays. The protocol is described in docs/protocol.md. Stop with Ctrl-C or "
            "SIGTERM: every peer gets a close frame."
        ),
        parents=[
            centre_options("simulator (with --simulate; the same options as `callboard simulate`)")
        ],
    )
    # A log or the simulator, not both: argparse refuses the pair, naming both.
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="log to replay or follow: callboard JSON Lines (plain or .gz), an Asterisk "
        "queue_log, or Exotel call records (a file or a directory)",
    )
    add_config_option(parser)  # [rules], [[alerts.rules]] and [alerts.webhook]
    parser.add_argument(
        "--host", default=DEFAULTS.host, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULTS.port,
        help="port (default %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--site",
        type=site_name,
        default=DEFAULTS.site,
        metavar="NAME",
        help="the site this hub serves, shown by boards watching several hubs; with "
        "--nats its stream's subject is callboard.NAME.events "
        "(letters, digits, '-', '_'; default %(default)s)",
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        help="compress frames to clients that offer it (permessage-deflate): fewer bytes "
        "for viewers across a slow link, more CPU per viewer for the hub",
    )
    replay = parser.add_argument_group("replay")
    replay.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay at X times real time; 0 = as fast as possible (default 1)",
    )
    # A followed log never ends, so it cannot start over.
    endless = replay.add_mutually_exclusive_group()
    endless.add_argument("--loop", action="store_true", help="start the log over when it ends")
    replay.add_argument(
        "--from",
        dest="source_format",
        choices=FORMATS,
        default=None,
        help="the log's format (default: detected from its content)",
    )
    endless.add_argument(
        "--follow",
        action="store_true",
        help="follow the log as it grows, like tail -F (rotation and truncation included), "
        "and publish each new line; without --from-start, only calls still open are sent "
        "from what is already there",
    )
    replay.add_argument(
        "--from-start",
        action="store_true",
        help="with --follow: publish the whole existing log first",
    )
    replay.add_argument(
        "--max-gap",
        type=float,
        default=None,
        metavar="S",
        help="never wait longer than S log-seconds between two events (skip quiet hours)",
    )
    source.add_argument(
        "--simulate", action="store_true", help="run the call-centre simulator live"
    )
    add_esl_options(parser, source)
    from monitor.commands.ami_options import add_ami_options

    add_ami_options(parser, source)
    security = parser.add_argument_group(
        "security",
        "With a token every connection must send 'Authorization: Bearer TOKEN'. With a "
        "publish token too, /publish needs that one and the read token is refused there; "
        "a publish token also lets its holder read. See docs/protocol.md.",
    )
    add_token_options(security, what="token every connection must present")
    add_token_options(
        security,
        what="token /publish needs (without one: the read token)",
        dest="publish_token",
        option="--publish-token",
        env=PUBLISH_TOKEN_ENV,
    )
    security.add_argument("--tls-cert", type=Path, default=None, help="certificate for wss://")
    security.add_argument("--tls-key", type=Path, default=None, help="private key for wss://")
    security.add_argument(
        "--max-frame",
        type=_positive_int,
        default=DEFAULTS.max_frame,
        metavar="BYTES",
        help="largest message a peer may send (default %(default)s)",
    )
    add_day_options(parser.add_argument_group("the centre's day (docs/kpi.md)"))
    durability = parser.add_argument_group("journal")
    durability.add_argument(
        "--journal",
        type=Path,
        default=None,
        help="append every accepted event here and recover from it on start",
    )
    durability.add_argument(
        "--journal-fsync",
        action="store_true",
        help="fsync each record (survives power loss, not just a crash; slower)",
    )
    durability.add_argument(
        "--keep-days",
        type=_positive_int,
        default=DEFAULTS.journal_keep_days,
        metavar="N",
        help="days of journal kept for since= resumes and reports; a new day starts a "
        "segment and a checkpoint, so a restart reads one day; with --nats, the stream's "
        "max age (default %(default)s)",
    )
    add_nats_options(parser)
    limits = parser.add_argument_group("limits")
    limits.add_argument(
        "--ring",
        type=_positive_int,
        default=DEFAULTS.ring_size,
        metavar="N",
        help="recent events kept for reconnecting subscribers (default %(default)s)",
    )
    limits.add_argument(
        "--queue-limit",
        type=_positive_int,
        default=DEFAULTS.queue_limit,
        metavar="N",
        help="frames a subscriber may fall behind before it is dropped (default %(default)s)",
    )
    limits.add_argument(
        "--max-subscribers",
        type=_positive_int,
        default=DEFAULTS.max_subscribers,
        metavar="N",
        help="subscribers connected at once (default %(default)s)",
    )
    limits.add_argument(
        "--max-producers",
        type=_positive_int,
        default=DEFAULTS.max_producers,
        metavar="N",
        help="producers connected at once (default %(default)s)",
    )
    limits.add_argument(
        "--producer-idle-timeout",
        type=_positive_seconds,
        default=DEFAULTS.producer_idle_timeout,
        metavar="S",
        help="close a producer that has sent nothing for S seconds, so idle ones do not "
        "hold every slot (default %(default)g)",
    )
    limits.add_argument(
        "--open-timeout",
        type=_positive_seconds,
        default=DEFAULTS.open_timeout,
        metavar="S",
        help="close a connection that has not completed its websocket handshake in S "
        "seconds, e.g. an idle TCP connection (default %(default)g)",
    )
    limits.add_argument(
        "--ping-interval",
        type=float,
        default=DEFAULTS.ping_interval,
        metavar="S",
        help="seconds between heartbeat pings (default %(default)g)",
    )
    limits.add_argument(
        "--ping-timeout",
        type=float,
        default=DEFAULTS.ping_timeout,
        metavar="S",
        help="drop a peer whose pong is this late (default %(default)g)",
    )
    limits.add_argument(
        "--send-buffer",
        type=_positive_int,
        default=DEFAULTS.socket_send_buffer,
        metavar="BYTES",
        help="kernel send buffer per connection (default: the OS's autotuning)",
    )
    limits.add_argument(
        "--catchup-timeout",
        type=_positive_float,
        default=DEFAULTS.catchup_timeout,
        metavar="S",
        help="cut a subscriber whose snapshot or catch-up takes longer (default %(default)g)",
    )
    limits.add_argument(
        "--max-calls",
        type=_positive_int,
        default=DEFAULTS.max_calls,
        metavar="N",
        help="calls in progress; events opening more are refused (default %(default)s)",
    )
    limits.add_argument(
        "--call-expiry",
        type=_hours_or_never,
        default=(DEFAULTS.call_expiry or 0) / 3600,
        metavar="HOURS",
        help="drop a call with no event for this long in event time; 0: never "
        "(default %(default)g)",
    )
    add_hooks_options(parser)
    parser.add_argument(
        "--stats-interval",
        type=float,
        default=30.0,
        metavar="S",
        help="log a progress line every S seconds (default 30)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="warnings only")
    parser.set_defaults(func=run)
