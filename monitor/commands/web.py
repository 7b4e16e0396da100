"""`callboard web`: the board served to browsers, one board process per browser session.

The board is whatever `callboard` itself would show (the demo, `watch URL`,
`replay LOG`), given after the web options; `--wall` and `--wall-page-s` are
passed on to it. The serving, the token and the session limit are in
`monitor.web.server`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.app.launch import page_seconds
from monitor.app.view import WALL_PAGE_S
from monitor.commands.options import AddParser, UsageError, bounded
from monitor.feed.tokens import add_token_options, resolve_token

if TYPE_CHECKING:
    from monitor.web.server import WebConfig

#: Addresses that only this machine reaches: no token needed there.
LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: The board commands a browser may be given (None: the demo).
BOARD_COMMANDS = (None, "watch", "replay")
DEFAULT_PORT = 8080

_sessions = bounded(int, 1)
_port = bounded(int, 0, must="must be a port number, 0 to 65535")


def board_args(args: argparse.Namespace) -> list[str]:
    """The `callboard` arguments of each session's board, checked as `callboard` would.

    Raises UsageError for a command other than the demo, watch or replay, and exits
    with argparse's message for arguments `callboard` would refuse.
    """
    from monitor.app.sites_feed import hub_address
    from monitor.cli import build_parser
    from monitor.sources import FormatError, choose_format

    board = list(args.board)
    if board[:1] == ["--"]:
        board = board[1:]
    if args.wall:
        board.append("--wall")
    if args.wall_page_s != WALL_PAGE_S:
        board += ["--wall-page-s", f"{args.wall_page_s:g}"]
    parsed = build_parser().parse_args(board)
    if parsed.command not in BOARD_COMMANDS:
        raise UsageError(
            f"a browser can be shown the demo, 'watch URL' or 'replay LOG', not {parsed.command!r}"
        )
    # What each board would find wrong at its start is found now, once, and told here:
    # a browser would only see its board end.
    try:
        if parsed.command == "replay":
            choose_format(Path(parsed.path), parsed.source_format)
        elif parsed.command == "watch":
            for url in parsed.url:  # one hub, or one per site
                hub_address(url)
    except (FormatError, ValueError) as exc:
        raise UsageError(f"{parsed.command}: {exc}") from None
    return board


def run(args: argparse.Namespace) -> int:
    """Run `callboard web` until SIGINT or SIGTERM; 0 after a clean stop."""
    from monitor.web.server import WebConfig

    if args.port > 65535:
        raise UsageError("--port must be a port number, 0 to 65535")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    token = resolve_token(args.token)
    if args.host not in LOOPBACK and token is None:
        raise UsageError(
            f"--host {args.host} lets other machines in: give a token "
            "(--token-file PATH or $CALLBOARD_TOKEN)"
        )
    board = board_args(args)
    # exec: the board replaces the shell textual-serve starts it in, so it is the
    # server's own child and the signals and pipes reach it directly.
    command = "exec " + shlex.join([sys.executable, "-m", "monitor", *board])
    config = WebConfig(
        command=command,
        host=args.host,
        port=args.port,
        token=token,
        max_sessions=args.max_sessions,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        title="callboard " + shlex.join(board) if board else "callboard",
    )
    return asyncio.run(_serve(config))


async def _serve(config: WebConfig) -> int:
    from monitor.web.server import start

    try:
        server, runner, url = await start(config)
    except OSError as exc:
        raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    token_note = ", token required" if config.token else ""
    print(
        f"callboard web: serving {config.title} on {url} "
        f"(at most {config.max_sessions} sessions{token_note})",
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    print(f"callboard web: stopping ({server.sessions} sessions open)", file=sys.stderr, flush=True)
    await runner.cleanup()
    print("callboard web: stopped", file=sys.stderr, flush=True)
    return 0


def register(add_parser: AddParser) -> None:
    """Add the `callboard web` subcommand with `add_parser`."""
    parser = add_parser(
        "web",
        help="serve the board to web browsers",
        description=(
            "Serve the board to web browsers (textual-serve): each browser session runs "
            "its own board process, which ends with the session. BOARD is what "
            "`callboard` would be given: nothing for the demo, 'watch URL ...' or "
            "'replay LOG ...'. Binds to 127.0.0.1; with --host another address a token "
            "is required, which a browser gives once as ?token=T."
        ),
        epilog=(
            "examples: callboard web --wall | callboard web --port 8080 watch "
            "ws://127.0.0.1:8765/events | callboard web replay day.jsonl.gz --speed 10"
        ),
    )
    parser.add_argument(
        "board",
        nargs=argparse.REMAINDER,
        metavar="BOARD",
        help="the board to serve: nothing (the demo), watch URL ..., replay LOG ...",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port to bind (default %(default)s)"
    )
    parser.add_argument(
        "--max-sessions",
        type=_sessions,
        default=20,
        metavar="N",
        help="browser sessions (board processes) at once (default %(default)s)",
    )
    parser.add_argument(
        "--wall", action="store_true", help="show the board in wall mode (big numbers)"
    )
    parser.add_argument(
        "--wall-page-s",
        type=page_seconds,
        default=WALL_PAGE_S,
        metavar="SECONDS",
        help=f"seconds each page of queues stays on the wall (default {WALL_PAGE_S:g})",
    )
    security = parser.add_argument_group(
        "security", "A token is required with --host other than loopback."
    )
    add_token_options(security, what="token every browser must present")
    security.add_argument("--tls-cert", type=Path, default=None, help="certificate for https://")
    security.add_argument("--tls-key", type=Path, default=None, help="private key for https://")
    parser.set_defaults(func=run)
