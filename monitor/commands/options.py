"""What every `callboard` command shares about its arguments: how a usage error is told.

Most bad arguments are refused by argparse itself while parsing (`type=`, `choices`,
mutually exclusive groups), with its usage line and `PROG: error: MESSAGE`. Some can
only be known afterwards: a log that does not exist, a format that cannot be told, a
port already taken. A command raises `UsageError` for those and `monitor.cli.main`
reports it through `report_usage_error`, in argparse's own format, with exit status 2:
one way for every command instead of a `print(...); return 2` per check.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from datetime import time
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

from classifier.day import DayClock, parse_day_starts, parse_timezone
from classifier.sites import check_site
from monitor.text.safe_text import clean

N = TypeVar("N", int, float)

#: What each command's `register` is given to add its parser: the subcommands'
#: `add_parser` (argparse's class of the subcommands, `_SubParsersAction`, is private).
AddParser = Callable[..., argparse.ArgumentParser]

#: The exit status of a usage error, as argparse's own `parser.error` uses.
USAGE_ERROR = 2


class UsageError(ValueError):
    """An argument found wrong after parsing; the message names the option or the file."""


def report_usage_error(
    parser: argparse.ArgumentParser, problem: object, out: TextIO | None = None
) -> int:
    """Write `problem` as `parser.error` would (usage line, `PROG: error: ...`); 2.

    Returned rather than exited, so `main()` keeps returning its status to a caller.
    The message may quote a file name or a hub's answer: cleaned for the terminal.
    """
    stream = sys.stderr if out is None else out
    parser.print_usage(stream)
    stream.write(f"{parser.prog}: error: {clean(problem, limit=None)}\n")
    return USAGE_ERROR


def bounded(
    kind: Callable[[str], N],
    low: N,
    *,
    above: bool = False,
    must: str | None = None,
    what: str | None = None,
) -> Callable[[str], N]:
    """An argparse `type=`: a finite `kind` (int or float) of at least `low`, or above it.

    The one check behind every "positive number"-style option. A value out of range
    is refused as `MUST, got TEXT` (`must` defaults to "must be LOW or more", or "must
    be above LOW" with `above`); NaN is out of every range, infinity is not a number
    any of them can take, and text that is not a number says so (`not a WHAT: 'TEXT'`,
    `what` "whole number" or "number" by default).
    """
    if must is None:
        must = f"must be above {low}" if above else f"must be {low} or more"
    if what is None:
        what = "whole number" if kind is int else "number"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what}: {text!r}") from None
        if not (value > low if above else value >= low):  # also true for NaN
            raise argparse.ArgumentTypeError(f"{must}, got {text}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        return value

    return parse


def host_port(default_port: int) -> Callable[[str], tuple[str, int]]:
    """An argparse `type=` for a server to connect to: HOST, HOST:PORT or [IPV6]:PORT,
    the port `default_port` when not given (`serve --ami`, `serve --esl`)."""

    def parse(text: str) -> tuple[str, int]:
        host, port_text = text.strip(), ""
        if host.startswith("["):
            inside, bracket, rest = host[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise argparse.ArgumentTypeError(f"not HOST[:PORT]: {text!r}")
            host, port_text = inside, rest[1:]
        elif host.count(":") == 1:
            host, port_text = host.split(":")
        if not host:
            raise argparse.ArgumentTypeError(f"no host in {text!r}: give HOST[:PORT]")
        if not port_text:
            return host, default_port
        if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
            raise argparse.ArgumentTypeError(f"port {port_text!r} is not between 1 and 65535")
        return host, int(port_text)

    return parse


def time_zone(text: str) -> ZoneInfo:
    """An argparse `type=` for `--timezone ZONE`: an IANA zone name, through `zoneinfo`.

    An unknown name, or text that is not a zone key at all, is refused naming it
    (`classifier.day.parse_timezone`, the one reading of a zone name).
    """
    try:
        return parse_timezone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def site_name(text: str) -> str:
    """An argparse `type=` for `--site NAME` (`classifier.sites.check_site`): a bad name
    is refused saying what a site name may be."""
    try:
        return check_site(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` as an argparse `type=`: its ValueError becomes argparse's usage error."""

    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return checked


def add_day_options(parser: argparse.ArgumentParser | Any, *, follows_hub: bool = False) -> None:
    """`--timezone ZONE` and `--day-starts HH:MM`: where the centre's day begins.

    `parser` is a parser or an argument group. `follows_hub`: the command shows a hub's
    day (watch), which the options only check against (see `day_clock`).
    """
    default = "the hub's" if follows_hub else None
    parser.add_argument(
        "--timezone",
        type=time_zone,
        default=None,
        metavar="ZONE",
        help=(
            "the centre's time zone, an IANA name such as Europe/London (default: "
            + (default or "each event's own UTC offset")
            + ")"
        ),
    )
    parser.add_argument(
        "--day-starts",
        type=_argument_type(parse_day_starts),
        default=None,
        metavar="HH:MM",
        help="the centre's day begins at this time of day (default: " + (default or "00:00") + ")",
    )


def add_mask_option(parser: argparse.ArgumentParser | Any, shows: str, why: str) -> None:
    """`--mask-numbers` (`monitor.text.masking`): one definition for the boards (`watch`,
    `replay`, the demo) and `report`. `parser` is a parser or an argument group; `shows`
    says what the command masks and `why` what for, in its --help. Absent, it is None: a
    board then takes the config file's `[board] mask_numbers`."""
    parser.add_argument(
        "--mask-numbers",
        action="store_true",
        default=None,
        help=f"show {shows} as +1 415 ••• ••01 ({why})",
    )


def day_clock(args: argparse.Namespace) -> DayClock | None:
    """The day clock of `--timezone` and `--day-starts`; None when neither was given."""
    zone: ZoneInfo | None = getattr(args, "timezone", None)
    starts: time | None = getattr(args, "day_starts", None)
    if zone is None and starts is None:
        return None
    return DayClock(zone, starts or time(0, 0))
