"""`callboard serve --nats URL --site NAME`: the options that put a hub on NATS JetStream.

Credentials never come from the command line (`ps` shows it to every user): a NATS
creds file (`--nats-creds`), or `$CALLBOARD_NATS_USER` with `$CALLBOARD_NATS_PASSWORD`,
or `$CALLBOARD_NATS_TOKEN`. TLS is nats-py's: a `tls://` URL, and `--nats-ca` for a
server certificate no system CA signs. See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from monitor.commands.options import UsageError, bounded
from monitor.feed.nats_config import (
    PASSWORD_ENV,
    TOKEN_ENV,
    USER_ENV,
    NatsConfig,
)
from monitor.feed.tokens import Options

_DEFAULTS = NatsConfig(url="")
_positive_int = bounded(int, 1)


def _readable_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r}: no such file")
    return path


def _add_access_options(group: Options) -> None:
    """`--nats-creds` and `--nats-ca`, alike for serve and watch (`_access` reads them)."""
    group.add_argument(
        "--nats-creds", type=_readable_file, default=None, metavar="FILE", help="NATS creds file"
    )
    group.add_argument(
        "--nats-ca",
        type=_readable_file,
        default=None,
        metavar="FILE",
        help="CA bundle the server's TLS certificate must chain to",
    )


def add_nats_options(parser: argparse.ArgumentParser) -> None:
    """Add the `NATS JetStream` group to `callboard serve`."""
    group = parser.add_argument_group(
        "NATS JetStream (docs/scaling.md)",
        "With --nats the site's stream is the hub's store instead of --journal: hubs "
        f"keep no files, and several may serve one site. Credentials: ${USER_ENV} and "
        f"${PASSWORD_ENV}, or ${TOKEN_ENV}, or --nats-creds.",
    )
    group.add_argument(
        "--nats",
        metavar="URL",
        default=None,
        help="NATS server(s), comma-separated: nats://HOST:PORT, or tls://HOST:PORT",
    )
    _add_access_options(group)
    group.add_argument(
        "--nats-max-bytes",
        type=_positive_int,
        default=None,
        metavar="BYTES",
        help="the stream keeps at most this many bytes, oldest dropped first (with --keep-days)",
    )
    group.add_argument(
        "--nats-replicas",
        type=_positive_int,
        default=_DEFAULTS.replicas,
        metavar="N",
        help="copies of the stream in a NATS cluster (default %(default)s)",
    )
    group.add_argument(
        "--nats-buffer",
        type=_positive_int,
        default=_DEFAULTS.buffer,
        metavar="N",
        help="events held while NATS is away before producers are refused 'unavailable' "
        "(default %(default)s)",
    )


def nats_config(
    args: argparse.Namespace, environ: dict[str, str] | None = None
) -> NatsConfig | None:
    """The hub's NatsConfig from serve's options and the environment; None without --nats."""
    if args.nats is None:
        for option in ("nats_creds", "nats_ca", "nats_max_bytes"):
            if getattr(args, option) is not None:
                raise UsageError(f"--{option.replace('_', '-')} needs --nats URL")
        return None
    if args.journal is not None:
        raise UsageError("--nats and --journal: the stream is the hub's store, give one")
    return replace(
        _access(args.nats, "--nats", args, environ),
        keep_days=args.keep_days,
        max_bytes=args.nats_max_bytes,
        replicas=args.nats_replicas,
        buffer=args.nats_buffer,
    )


def _access(
    servers: str, where: str, args: argparse.Namespace, environ: dict[str, str] | None
) -> NatsConfig:
    """How to reach NATS, alike for serve and watch: `servers` checked (a fault names
    `where`), the credentials from the environment, the creds file and CA from `args`."""
    user, password, token = _credentials(environ)
    return NatsConfig(
        url=_servers(servers, where),
        creds=args.nats_creds,
        user=user,
        password=password,
        token=token,
        ca=args.nats_ca,
    )


def _credentials(environ: dict[str, str] | None) -> tuple[str | None, str | None, str | None]:
    """User, password and token from `$CALLBOARD_NATS_*`; UsageError for a password alone."""
    env = os.environ if environ is None else environ
    user = env.get(USER_ENV) or None
    password = env.get(PASSWORD_ENV) or None
    token = env.get(TOKEN_ENV) or None
    if password is not None and user is None:
        raise UsageError(f"${PASSWORD_ENV} is set without ${USER_ENV}")
    return user, password, token


def _servers(text: str, where: str) -> str:
    """The comma-separated servers of `text`, checked; UsageError naming `where` and the URL."""
    servers = [part.strip() for part in text.split(",")]
    for server in servers:
        scheme, sep, rest = server.partition("://")
        if not sep or scheme not in ("nats", "tls") or not rest:
            raise UsageError(
                f"{where}: {server[:80]!r} is not a NATS URL: nats://HOST:PORT or tls://HOST:PORT"
            )
    return ",".join(servers)


def is_nats_url(text: str) -> bool:
    """Whether `callboard watch` was given NATS servers rather than hubs."""
    return text.startswith(("nats://", "tls://"))


def add_nats_watch_options(parser: argparse.ArgumentParser) -> None:
    """Add `callboard watch nats://...`'s options: the sites, and serve's credentials and CA."""
    group = parser.add_argument_group(
        "Sites on NATS JetStream (docs/scaling.md)",
        "watch nats://HOST:PORT --sites a,b reads each site's checkpoint and stream "
        "straight from NATS, with no hub in between. Credentials as serve's: "
        f"${USER_ENV} and ${PASSWORD_ENV}, or ${TOKEN_ENV}, or --nats-creds.",
    )
    group.add_argument(
        "--sites",
        default=None,
        metavar="A,B",
        help="with nats:// URLs: the sites to show, comma-separated (serve --site names)",
    )
    _add_access_options(group)


def nats_watch_config(
    urls: list[str], args: argparse.Namespace, environ: dict[str, str] | None = None
) -> tuple[NatsConfig, list[str]]:
    """A board's NatsConfig (viewer: it never writes) and its sites; UsageError naming a fault."""
    from classifier.sites import check_site

    if args.sites is None:
        raise UsageError("watch nats://...: give the sites to show with --sites a,b")
    sites = [part.strip() for part in args.sites.split(",")]
    for site in sites:
        try:
            check_site(site)
        except ValueError as exc:
            raise UsageError(f"--sites: {exc}") from None
    if len(set(sites)) != len(sites):
        raise UsageError("--sites names a site twice")
    return replace(_access(",".join(urls), "watch", args, environ), viewer=True), sites


def check_no_nats_watch_options(args: argparse.Namespace) -> None:
    """`watch ws://...` given `--sites` or a NATS option: a usage error naming it."""
    for option in ("sites", "nats_creds", "nats_ca"):
        if getattr(args, option, None) is not None:
            raise UsageError(f"--{option.replace('_', '-')} goes with nats:// URLs only")
