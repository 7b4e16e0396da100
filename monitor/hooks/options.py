"""`callboard serve`'s options for the webhook receiver, and the `HooksConfig` they make.

Secrets come from the environment or files only, never the command line (where
`ps` shows them to every user): the hooks key, Twilio's auth token and the
Amazon Connect shared secret each have a ``-file`` option and a variable, read
the way `monitor.feed.tokens` reads the hub's tokens.
"""

from __future__ import annotations

import argparse

from monitor.commands.options import UsageError, bounded
from monitor.feed.tokens import resolve_token, token_file
from monitor.hooks.config import HooksConfig

HOOKS_KEY_ENV = "CALLBOARD_HOOKS_KEY"
TWILIO_TOKEN_ENV = "CALLBOARD_TWILIO_AUTH_TOKEN"
AMAZON_SECRET_ENV = "CALLBOARD_AMAZON_SECRET"

DEFAULTS = HooksConfig()


def hooks_address(text: str) -> tuple[str, int]:
    """An argparse `type` for ``--hooks``: ``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (loopback)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        host, port = "", text.strip()
    host = host.strip("[]") or DEFAULTS.host
    if not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT (a port 0-65535): {text!r}")
    return host, int(port)


def add_hooks_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``webhooks`` option group to serve's parser."""
    group = parser.add_argument_group(
        "webhooks",
        "Receive Exotel, Twilio and Amazon Connect webhooks over HTTP(S) (with "
        "--tls-cert/--tls-key) and publish them to this hub; see docs/protocol.md, "
        "'Webhook receiver'.",
    )
    group.add_argument(
        "--hooks",
        type=hooks_address,
        default=None,
        metavar="HOST:PORT",
        help="listen for webhooks here (':PORT' is loopback); any address but loopback "
        "needs a hooks key",
    )
    group.add_argument(
        "--hooks-public-url",
        default=None,
        metavar="URL",
        help="the URL vendors reach the receiver by (through a proxy, say), without the "
        "path: Twilio signs it (default: the URL the request arrived at)",
    )
    group.add_argument(
        "--hooks-key-file",
        type=token_file,
        default=None,
        metavar="PATH",
        help=f"file holding the key every webhook must give (?key= or basic auth); "
        f"default: ${HOOKS_KEY_ENV}",
    )
    group.add_argument(
        "--twilio-auth-token-file",
        type=token_file,
        default=None,
        metavar="PATH",
        help=f"file holding the Twilio auth token signatures are checked with; "
        f"default: ${TWILIO_TOKEN_ENV}",
    )
    group.add_argument(
        "--amazon-secret-file",
        type=token_file,
        default=None,
        metavar="PATH",
        help=f"file holding the secret Amazon Connect deliveries carry in X-Callboard-Secret; "
        f"default: ${AMAZON_SECRET_ENV}",
    )
    group.add_argument(
        "--hooks-max-body",
        type=bounded(int, 1),
        default=DEFAULTS.max_body,
        metavar="BYTES",
        help="largest webhook body; larger get 413 (default %(default)s)",
    )


def hooks_config(args: argparse.Namespace) -> HooksConfig | None:
    """The receiver's configuration from serve's options, or None without ``--hooks``.

    Raises `UsageError` for options that need ``--hooks``, or a configuration the
    receiver refuses (a non-loopback address without a key).
    """
    if args.hooks is None:
        given = [
            option
            for option, value in (
                ("--hooks-public-url", args.hooks_public_url),
                ("--hooks-key-file", args.hooks_key_file),
                ("--twilio-auth-token-file", args.twilio_auth_token_file),
                ("--amazon-secret-file", args.amazon_secret_file),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{given[0]} needs --hooks HOST:PORT")
        return None
    host, port = args.hooks
    config = HooksConfig(
        host=host,
        port=port,
        key=resolve_token(args.hooks_key_file, HOOKS_KEY_ENV),
        public_url=args.hooks_public_url,
        twilio_token=resolve_token(args.twilio_auth_token_file, TWILIO_TOKEN_ENV),
        amazon_secret=resolve_token(args.amazon_secret_file, AMAZON_SECRET_ENV),
        max_body=args.hooks_max_body,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    problem = config.problem()
    if problem is not None:
        raise UsageError(problem)
    return config
