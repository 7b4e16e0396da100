"""`callboard tail URL`: follow a hub and print a verdict per finished call (or raw events)."""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from typing import TextIO

from classifier.day import DayState
from classifier.schema import Event
from classifier.tracker import CallTracker, Result
from monitor.commands.options import AddParser, UsageError, bounded
from monitor.feed.client import (
    FeedClient,
    FeedRefused,
    FeedState,
    FeedStatus,
    Snapshot,
    SourceStatus,
)
from monitor.feed.tokens import add_token_options, resolve_token
from monitor.text.safe_text import clean, escape_for_terminal


class Tail:
    """Applies what the feed yields and writes one JSON line per finished call or event."""

    def __init__(self, out: TextIO, err: TextIO, events: bool, quiet: bool) -> None:
        self.out = out
        # Feed text is untrusted: on a terminal it must not reach it as escape codes.
        self._safe = escape_for_terminal if out.isatty() else str
        self.err = err
        self.events = events
        self.quiet = quiet
        self.tracker = CallTracker(keep_events=False)
        self.snapshots = 0
        self.written = 0

    def note(self, text: str) -> None:
        """Write `text` to stderr as a `callboard tail:` line, cleaned; nothing when quiet."""
        if not self.quiet:
            self.err.write(f"callboard tail: {clean(text, limit=None)}\n")
            self.err.flush()

    def on_state(self, state: FeedState) -> None:
        """Report a change of the feed's state on stderr, except its final close."""
        if state.status is FeedStatus.CLOSED:
            return
        self.note(state.describe())

    def snapshot(self, snap: Snapshot, since: int | None = None) -> None:
        """Start over from a hub's snapshot: a fresh tracker holding its calls; say how it joined.

        `since` is the seq tail asked to resume after: a first snapshot despite it means
        the hub no longer held the events after it.
        """
        self.snapshots += 1
        if self.snapshots == 1 and since is not None:
            self.note(
                f"the hub no longer holds every event after seq {since}: "
                f"starting from its state at seq {snap.seq}"
            )
        if self.snapshots > 1:
            self.note(
                f"re-synced from a snapshot at seq {snap.seq}: calls that ended while "
                "disconnected are not reported"
            )
        self.tracker = CallTracker(keep_events=False)
        snap.load_into(self.tracker)
        self.note(
            f"joined hub {snap.hub_id} at seq {snap.seq}: {len(snap.calls)} calls in progress"
        )
        if snap.day is not None:
            try:
                self.note(f"the hub's {DayState.from_dict(snap.day).describe()}")
            except ValueError as exc:
                self.note(f"the hub's day could not be read: {exc}")

    def event(self, event: Event) -> None:
        """Apply a feed event and write it (--events) or the verdict of a call it ended.

        A duplicate or a rejected event is noted on stderr (and still written with --events).
        """
        applied = self.tracker.apply(event)
        if applied.result is not Result.APPLIED:
            self.note(f"seq {event.seq}: {applied.problem}")
        if self.events:
            self.out.write(self._safe(event.to_json()) + "\n")
        elif applied.verdict is not None:
            line = json.dumps(applied.verdict.record(), ensure_ascii=False)
            self.out.write(self._safe(line) + "\n")
        else:
            return
        self.written += 1
        self.out.flush()


def source_finished(state: FeedState) -> bool:
    """Whether the hub's source has finished and every event up to its last was received."""
    source = state.source
    return (
        source.finished
        and source.final_seq is not None
        and state.last_seq is not None
        and state.last_seq >= source.final_seq
    )


def ssl_context(cafile: str | None) -> ssl.SSLContext | None:
    """The TLS context trusting `cafile`; a usage error naming it when it cannot be used."""
    if cafile is None:
        return None
    try:
        return ssl.create_default_context(cafile=cafile)
    except OSError as exc:  # missing, unreadable, or not PEM certificates (SSLError)
        raise UsageError(f"--cafile {cafile}: {exc.strerror or exc}") from None


async def _tail(args: argparse.Namespace, tail: Tail, context: ssl.SSLContext | None) -> int:
    client = FeedClient(
        args.url,
        token=resolve_token(args.token),
        since=args.since,
        on_state=tail.on_state,
        ssl=context,
        max_attempts=args.max_attempts,
    )
    try:
        async for item in client:
            if isinstance(item, Snapshot):
                tail.snapshot(item, args.since)
            elif isinstance(item, SourceStatus):
                detail = f" ({item.detail})" if item.detail else ""
                tail.note(f"hub source {item.kind} {item.name}: {item.state}{detail}")
            else:
                tail.event(item)
            if args.until_finished and source_finished(client.state):
                tail.note(f"source finished at seq {client.state.source.final_seq}")
                await client.close()
                break
    except FeedRefused as exc:
        print(f"callboard tail: {clean(exc, limit=None)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of stdout went away: leave the hub as --until-finished does (left
        # open, the connection's tasks were torn down mid-send by asyncio.run, which
        # logged a traceback), then let monitor.cli.main end with 0.
        await client.close()
        raise
    return 0


def run(args: argparse.Namespace) -> int:
    """Run `callboard tail` until the source finished (--until-finished) or it is stopped.

    Exit status 1 when the hub refuses for good (HTTP 400, 401, 403 or 404, or
    --max-attempts used up); 0 also when the reader of stdout went away. A URL that
    is not ws:// or wss:// or a --cafile that cannot be read raises `UsageError` (2).
    """
    context = ssl_context(args.cafile)
    tail = Tail(sys.stdout, sys.stderr, events=args.events, quiet=args.quiet)
    try:
        return asyncio.run(_tail(args, tail, context))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


#: A seq to resume after: 0 asks for everything the hub still holds.
_since = bounded(int, 0)


def register(add_parser: AddParser) -> None:
    """Add the `callboard tail` subcommand with `add_parser`."""
    parser = add_parser(
        "tail",
        help="follow a hub and print each call's verdict as it finishes",
        description=(
            "Subscribe to a hub (ws://HOST:PORT or its /events URL) and print one JSON "
            "object per finished call, the same record `callboard classify` prints, or "
            "with --events every raw event. Connection news goes to stderr. Survives hub "
            "restarts: it reconnects with backoff and resumes where it stopped."
        ),
    )
    parser.add_argument("url", help="hub URL, e.g. ws://127.0.0.1:8765")
    parser.add_argument(
        "--events",
        action="store_true",
        help="print raw events (with their seq), not verdicts; events of calls already in "
        "progress when tail joins are not printed (--since 0 gets all the hub holds)",
    )
    parser.add_argument(
        "--since",
        type=_since,
        default=None,
        metavar="SEQ",
        help="start after this seq; 0 asks for everything the hub still holds",
    )
    add_token_options(parser, what="bearer token the hub asks for")
    parser.add_argument("--cafile", default=None, help="CA bundle to trust for wss://")
    parser.add_argument(
        "--until-finished",
        action="store_true",
        help="exit once the hub's replay has finished and every event was printed",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=None,
        metavar="N",
        help="give up after N failed connection attempts in a row (default: never)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no connection news")
    parser.set_defaults(func=run)
