"""Where a bearer token comes from: an option, a file, or the environment.

`callboard serve`, `watch` and `tail` all take a token the same way, so the rules
live here once:

* `--token-file PATH` (the file's text) or `$CALLBOARD_TOKEN` are preferred:
  `--token T` still works, but a command line is visible to every user of the
  machine in `ps` and `/proc/PID/cmdline`.
* A token is stripped of surrounding whitespace wherever it comes from (a token
  file usually ends with a newline, and HTTP drops the spaces around a header's
  value anyway, so a client could never present them). Whitespace inside is kept.
* A blank `--token`, or a token file that is missing, unreadable or blank, is a
  usage error naming the option and the file. A blank environment variable counts
  as unset, as shells and container files use it.

`serve` has a second, optional pair for the publish token (`--publish-token`,
`--publish-token-file`, `$CALLBOARD_PUBLISH_TOKEN`); see docs/protocol.md,
"Authentication and connection limits".
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Protocol

TOKEN_ENV = "CALLBOARD_TOKEN"
PUBLISH_TOKEN_ENV = "CALLBOARD_PUBLISH_TOKEN"

#: A token file larger than this is not a token (a wrong path, a key file, a log).
MAX_TOKEN_FILE = 4096


def token_text(text: str) -> str:
    """An argparse `type` for `--token`: the token stripped; blank is a usage error."""
    token = text.strip()
    if not token:
        raise argparse.ArgumentTypeError("the token is empty")
    return token


def token_file(path: str) -> str:
    """An argparse `type` for `--token-file`: the file's token; unreadable or blank is an error."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_TOKEN_FILE:
        raise argparse.ArgumentTypeError(
            f"{path!r} is over {MAX_TOKEN_FILE} bytes: not a token file"
        )
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{path!r} is not UTF-8 text") from None
    if not token:
        raise argparse.ArgumentTypeError(f"{path!r} is empty")
    return token


class Options(Protocol):
    """Where options are added: a parser or one of its groups."""

    def add_argument(self, *name_or_flags: str, **kwargs: Any) -> argparse.Action:
        """argparse's `add_argument`."""
        ...


class OptionGroups(Options, Protocol):
    """A parser or an argument group, which both hold mutually exclusive groups.

    argparse documents no type for both (its class for a group, `_ArgumentGroup`, is
    private): this says what is used of them.
    """

    def add_mutually_exclusive_group(self, *, required: bool = False) -> Options:
        """argparse's `add_mutually_exclusive_group`."""
        ...


def add_token_options(
    parser: OptionGroups,
    *,
    what: str,
    dest: str = "token",
    option: str = "--token",
    env: str = TOKEN_ENV,
) -> None:
    """Add `OPTION T` and `OPTION-file PATH` (one or the other) for a token read from `env`."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        f"{option}-file",
        dest=dest,
        type=token_file,
        default=None,
        metavar="PATH",
        help=f"file holding the {what} (surrounding whitespace is dropped); default: ${env}",
    )
    group.add_argument(
        option,
        dest=dest,
        type=token_text,
        default=None,
        metavar="T",
        help=f"the {what} on the command line, where `ps` shows it to every user of "
        f"the machine: prefer {option}-file or ${env}",
    )


def resolve_token(given: str | None, env: str = TOKEN_ENV) -> str | None:
    """The token from the options if given, else from `$env` (stripped; blank is unset)."""
    if given is not None:
        return given
    return os.environ.get(env, "").strip() or None
