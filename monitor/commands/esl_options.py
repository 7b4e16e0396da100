"""`callboard serve --esl HOST[:PORT]`: the options of the FreeSWITCH event socket source.

Apart from serve.py so the source's options, their checks and the first login live
together. The password comes from `$CALLBOARD_ESL_PASSWORD` or `--esl-password-file`,
never from the command line, where `ps` shows it to every user of the machine. The
first login happens before the hub starts: a refused password or an unreachable
socket is a usage error (exit 2) quoting FreeSWITCH's answer, where later failures
are retried with backoff (`monitor.sources.esl_client`).
"""

from __future__ import annotations

import argparse
import os

from monitor.commands.options import UsageError, bounded, host_port
from monitor.feed.tokens import Options, token_file
from monitor.sources.esl_client import DEFAULT_PORT, PASSWORD_ENV, EslRefused, EslSource

_seconds = bounded(float, 0.0, above=True, must="must be a number of seconds above 0")


#: `--esl`'s argparse type: HOST, HOST:PORT or [IPV6]:PORT; the port defaults to 8021.
esl_address = host_port(DEFAULT_PORT)


def add_esl_options(parser: argparse.ArgumentParser, sources: Options) -> None:
    """`--esl` among serve's exclusive `sources`, and its own group of options."""
    sources.add_argument(
        "--esl",
        type=esl_address,
        default=None,
        metavar="HOST[:PORT]",
        help="take events live from FreeSWITCH's event socket (mod_callcenter's "
        f"callcenter::info; port {DEFAULT_PORT} by default)",
    )
    group = parser.add_argument_group(
        "FreeSWITCH event socket",
        f"With --esl. The password is ${PASSWORD_ENV} or --esl-password-file, never an "
        "option of its own. See docs/sources.md, 'FreeSWITCH event socket'.",
    )
    group.add_argument(
        "--esl-password-file",
        type=token_file,
        default=None,
        metavar="PATH",
        help=f"file holding the event socket's password; default: ${PASSWORD_ENV}",
    )
    group.add_argument(
        "--esl-keepalive",
        type=_seconds,
        default=20.0,
        metavar="S",
        help="send a keep-alive after S seconds of silence; nothing for S more and the "
        "connection counts as stalled and is made again (default %(default)g)",
    )


def check_esl_options(args: argparse.Namespace) -> None:
    """`UsageError` for event socket options without --esl, or --esl without a password."""
    if args.esl is None:
        if args.esl_password_file is not None:
            raise UsageError("--esl-password-file goes with --esl")
        return
    if args.esl_password_file is None and not os.environ.get(PASSWORD_ENV, "").strip():
        raise UsageError(
            f"--esl needs the event socket's password: set ${PASSWORD_ENV} or give "
            "--esl-password-file"
        )


async def esl_source(args: argparse.Namespace) -> EslSource:
    """The source for `args.esl`, after one login that worked; `UsageError` if it did not."""
    host, port = args.esl
    password = args.esl_password_file or os.environ.get(PASSWORD_ENV, "").strip()
    if any(c in password for c in "\r\n"):
        # ESL commands end at a line end: one inside would send a command of its own.
        raise UsageError("the event socket's password holds a line break")
    source = EslSource(host, port, password, keepalive=args.esl_keepalive)
    try:
        await source.check()
    except EslRefused as exc:
        raise UsageError(f"FreeSWITCH at {host}:{port} refused the password: {exc}") from None
    except OSError as exc:
        raise UsageError(
            f"cannot reach FreeSWITCH's event socket at {host}:{port}: {exc.strerror or exc}"
        ) from None
    return source
