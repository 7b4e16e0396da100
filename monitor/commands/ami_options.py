"""`serve --ami HOST[:PORT]`: the options of a live Asterisk Manager Interface source.

A group of its own, so serve's module only hands the parser over and picks the source
up. The secret never comes from the command line (``ps`` shows it to every user of
the machine): `$CALLBOARD_AMI_SECRET` or ``--ami-secret-file``.
"""

from __future__ import annotations

import argparse
import os
import ssl
from collections.abc import Callable
from typing import Any

from monitor.commands.options import UsageError, host_port
from monitor.feed.tokens import Options, token_file
from monitor.sources.ami_client import (
    DEFAULT_PORT,
    SECRET_ENV,
    AmiConfig,
    AmiLoginRefused,
    AmiSource,
)

#: `--ami`'s argparse type: HOST, HOST:PORT or [V6]:PORT; the port defaults to 5038.
_address = host_port(DEFAULT_PORT)


def add_ami_options(parser: argparse.ArgumentParser, sources: Options) -> None:
    """--ami (one of serve's sources: not with a log PATH or --simulate) and its group."""
    sources.add_argument(
        "--ami",
        type=_address,
        default=None,
        metavar="HOST[:PORT]",
        help=f"follow a live Asterisk over its Manager Interface (port {DEFAULT_PORT} by "
        "default); see the 'Asterisk AMI' options",
    )
    group = parser.add_argument_group(
        "Asterisk AMI",
        f"With --ami. The secret comes from ${SECRET_ENV} or --ami-secret-file, never "
        "the command line. On every (re)connect the hub re-syncs through QueueStatus and "
        "CoreShowChannels; see docs/sources.md.",
    )
    group.add_argument("--ami-user", metavar="NAME", default=None, help="manager.conf user")
    group.add_argument(
        "--ami-secret-file",
        type=token_file,
        dest="ami_secret",
        metavar="PATH",
        default=None,
        help=f"file holding the user's secret (default: ${SECRET_ENV})",
    )
    group.add_argument(
        "--ami-tls", action="store_true", help="AMI over TLS (Asterisk's tlsenable, port 5039)"
    )
    group.add_argument(
        "--ami-cafile",
        metavar="PATH",
        default=None,
        help="with --ami-tls: CA bundle that signed the PBX's certificate (default: the system's)",
    )
    group.add_argument(
        "--ami-ping",
        type=float,
        default=20.0,
        metavar="S",
        help="send a keep-alive Ping after S quiet seconds; no answer in S/2 more "
        "reconnects (default %(default)g)",
    )


def check_ami(args: argparse.Namespace) -> None:
    """The --ami options that cannot be judged one by one; `UsageError` naming them."""
    if not args.ami_user:
        raise UsageError("--ami needs --ami-user NAME")
    secret = args.ami_secret or os.environ.get(SECRET_ENV, "").strip()
    if not secret:
        raise UsageError(f"--ami needs a secret: set ${SECRET_ENV} or give --ami-secret-file")
    args.ami_secret = secret
    if args.ami_cafile is not None and not args.ami_tls:
        raise UsageError("--ami-cafile goes with --ami-tls")
    if not args.ami_ping > 0:
        raise UsageError("--ami-ping must be a number of seconds above 0")


def ami_config(args: argparse.Namespace) -> AmiConfig:
    """The client's configuration from serve's options (checked by `check_ami`)."""
    tls = None
    if args.ami_tls:
        try:
            tls = ssl.create_default_context(cafile=args.ami_cafile)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ami-cafile {args.ami_cafile}: {exc}") from None
    host, port = args.ami
    return AmiConfig(
        host=host,
        port=port,
        user=args.ami_user,
        secret=args.ami_secret,
        tls=tls,
        ping_interval=args.ami_ping,
        ping_timeout=args.ami_ping / 2,
    )


async def connect_ami(args: argparse.Namespace, on_problem: Callable[[str], None]) -> Any:
    """The AMI source, logged in once: a refused login or an unreachable PBX at start
    is a `UsageError` (exit 2) with the PBX's message; later ones are retried."""
    config = ami_config(args)
    source = AmiSource(config, on_problem=on_problem)
    where = f"{config.host}:{config.port}"
    try:
        await source.login()
    except AmiLoginRefused as exc:
        raise UsageError(f"--ami {where}: login as {config.user!r} refused: {exc}") from None
    except (OSError, TimeoutError, EOFError) as exc:
        raise UsageError(f"--ami {where}: cannot connect: {exc}") from None
    return source
