"""`callboard report`: finished calls per queue and per interval, from a log or a hub.

The figures are `classifier.report`'s (on `classifier.kpi`'s formulas) and
`report_formats` lays them out; this module only gets the verdicts. A log is read
exactly as `classify` reads it (`classify_items`: the same detection, the same
messages for bad lines, the same progress), with the verdicts counted instead of
written, so the report's totals are `classify`'s counts by construction and the
tests hold them to it. A hub URL is followed from the first event it holds
(`--since 0`, as `tail` does) until the seq it was at on joining, or, when its source
is a replay still running (the one source that finishes), until that replay has
finished (`--so-far`: the seq on joining even then), or until the user interrupts; the
report covers what was received, and says what it misses. A hub with no source of its
own (relaying producers, or restarted on its journal) or a live one (a followed log,
AMI, the simulator) never finishes: waiting for it would never end.

With `--agents` the report is per agent instead (`classifier.agents_report`): the
same reading, and every event the tracker applied also goes to the report's
`AgentsDay`, as it goes to a board's.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import TextIO

from classifier.agents_report import AgentsReport
from classifier.report import DEFAULT_INTERVAL, INTERVALS, IntervalReport
from classifier.rules import judge
from classifier.tracker import CallTracker, Result
from classifier.verdict import Judgement
from monitor.app.launch import add_threshold_options, settings_from
from monitor.commands.classify import LineCount, batch_gc, classify_items, source_format
from monitor.commands.options import AddParser, UsageError, add_mask_option, bounded, time_zone
from monitor.commands.report_agents import write_agents
from monitor.commands.report_formats import write_report
from monitor.commands.tail import source_finished, ssl_context
from monitor.config.options import config_from, rules_from
from monitor.feed.client import (
    FeedClient,
    FeedItem,
    FeedRefused,
    FeedState,
    FeedStatus,
    Snapshot,
    SourceState,
    SourceStatus,
)
from monitor.feed.tokens import add_token_options, resolve_token
from monitor.sources import FORMATS, iter_source
from monitor.sources.progress import ReadProgress
from monitor.sources.replay_source import ReplaySource
from monitor.text.safe_text import clean

#: Where a hub's events come from: anything else is a log path.
HUB_SCHEMES = ("ws://", "wss://")
#: The source kind of a replay, the one kind of hub source that finishes.
REPLAY_KIND = ReplaySource.kind


class _Counted:
    """`classify_items`' sink that counts finished calls in the report instead of writing.

    It takes `judge`'s judgement of each call, not `classify`'s verdict: the report
    counts what the verdict's tally reads and never shows a detail line, and leaving
    the line out is what makes a report cheaper than `classify` on the same log.
    """

    def __init__(self, report: IntervalReport) -> None:
        self.report = report

    judge = staticmethod(judge)

    def write_all(self, judgements: Iterable[Judgement], /) -> None:
        self.report.add_judgements(judgements)


class _Note:
    """`callboard report:` lines on stderr, cleaned (they may quote a hub or a file)."""

    def __init__(self, err: TextIO) -> None:
        self.err = err

    def __call__(self, text: str) -> None:
        self.err.write(f"callboard report: {clean(text, limit=None)}\n")
        self.err.flush()


def _from_log(
    args: argparse.Namespace, report: IntervalReport, note: _Note, agents: AgentsReport | None
) -> int:
    """Count a log's finished calls as `classify` classifies them; 1 when a line was rejected."""
    path: str = args.path
    fmt = source_format(args)
    errors = LineCount(sys.stderr)
    progress = ReadProgress(
        "callboard report", clean(path, None), sys.stderr, problems=lambda: errors.lines
    )
    items = iter_source(path, fmt, progress=progress)
    with batch_gc():
        summary = classify_items(
            items,
            _Counted(report),
            errors,
            rules=rules_from(config_from(args)),
            on_applied=agents.apply if agents is not None else None,
            # The report cuts time in its own intervals; classify's per-day counts
            # would be work for nothing.
            count_days=False,
        )
    finished = sum(summary.outcomes.values())
    skipped = sum(count for *_, count in items.skipped.rows())
    note(
        f"{finished} finished calls; {summary.open_calls} still open at the end (not in the "
        f"report); {summary.rejected} lines rejected, {summary.duplicates} duplicates ignored"
        + (f", {skipped} skipped (not errors)" if skipped else "")
    )
    return 1 if summary.rejected else 0


class _HubReader:
    """Applies a hub's feed to a tracker and counts each verdict in the report."""

    def __init__(
        self,
        report: IntervalReport,
        note: _Note,
        since: int,
        so_far: bool,
        agents: AgentsReport | None = None,
    ) -> None:
        self.report = report
        #: With --agents: the agents' report, fed every event the tracker applies.
        self.agents = agents
        self.note = note
        self.since = since
        self.so_far = so_far
        #: With --so-far: the hub's seq when the report first joined, where it stops.
        self.until: int | None = None
        #: Called (once) when the report has all it waits for and the feed may end.
        self.stop: Callable[[], object] | None = None
        self.finished = False
        self.tracker = CallTracker(keep_events=False)
        self.snapshots = 0
        self.rejected = 0
        self.last_seq: int | None = None
        #: Whether the hub answered at all (the feed went live, or anything came): from
        #: then on an interrupt or a refusal still reports what came.
        self.received = False
        #: What the report misses, in words: said on stderr and in the report.
        self.gaps: list[str] = []

    def gap(self, text: str) -> None:
        self.gaps.append(text)
        self.note(text)

    def on_state(self, state: FeedState) -> None:
        if state.status is not FeedStatus.CLOSED:
            self.note(state.describe())
        if state.status is FeedStatus.LIVE:
            self.received = True
        if state.status is FeedStatus.LIVE and self.until is None:
            why = "--so-far" if self.so_far else _never_finishes(state.source)
            if why is None:
                return  # a replay running: wait for its end
            self.until = state.joined_seq
            self.note(
                f"reporting the hub's day up to seq {self.until}, where it was on joining ({why})"
            )
            # A hub with nothing to catch up on sends no item that would end the loop.
            if self.done(state) and self.stop is not None:
                self.stop()

    def done(self, state: FeedState) -> bool:
        """Whether the report has all it waits for: the source finished, or --so-far's seq."""
        if self.finished:
            return True
        self.finished = True
        if source_finished(state):
            self.note(f"source finished at seq {state.source.final_seq}")
            return True
        if self.until is not None and (state.last_seq or 0) >= self.until:
            self.note(f"caught up with seq {self.until}")
            return True
        self.finished = False
        return False

    def snapshot(self, snap: Snapshot) -> None:
        """Start from the calls in progress; say which finished calls the report misses."""
        self.snapshots += 1
        if self.snapshots == 1:
            self.gap(
                f"the hub no longer holds every event after seq {self.since}: the report "
                f"starts at seq {snap.seq} and misses the calls that ended before it"
            )
        else:
            self.gap(
                f"re-synced from a snapshot at seq {snap.seq}: calls that ended while "
                "disconnected are not in the report"
            )
        self.tracker = CallTracker(keep_events=False)
        snap.load_into(self.tracker)
        if self.agents is not None:
            # The calls in progress come as their state, not their events: the agents'
            # report starts from the agents' presence and counts what follows.
            for report in snap.presence:
                self.agents.apply(report)

    def item(self, item: FeedItem) -> None:
        self.received = True
        if isinstance(item, Snapshot):
            self.snapshot(item)
        elif isinstance(item, SourceStatus):
            detail = f" ({item.detail})" if item.detail else ""
            self.note(f"hub source {item.kind} {item.name}: {item.state}{detail}")
        else:
            applied = self.tracker.apply(item)
            self.last_seq = item.seq
            if applied.result is Result.REJECTED:
                self.rejected += 1
            if applied.result is not Result.APPLIED:
                self.note(f"seq {self.last_seq}: {applied.problem}")
            elif self.agents is not None:
                self.agents.apply(item)
            if applied.verdict is not None:
                self.report.add(applied.verdict)


def _never_finishes(source: SourceStatus) -> str | None:
    """Why waiting for the hub's source to finish would not end, in words; None for a
    replay still running, the one source that finishes (a finished source is done)."""
    if source.state == SourceState.RUNNING and source.kind == REPLAY_KIND:
        return None
    if source.finished:
        return f"its source {source.kind} {source.name} has {source.state}"
    if source.state == SourceState.IDLE:
        return "the hub has no source of its own that finishes: it relays what producers send"
    return f"its source {source.kind} {source.name} is live and never finishes"


async def _follow(args: argparse.Namespace, reader: _HubReader) -> int:
    client = FeedClient(
        args.path,
        token=resolve_token(args.token),
        since=reader.since,
        on_state=reader.on_state,
        ssl=ssl_context(args.cafile),
        max_attempts=args.max_attempts,
    )
    closing: list[asyncio.Task[None]] = []
    reader.stop = lambda: closing.append(asyncio.create_task(client.close()))
    # SIGTERM ends the report as Ctrl-C does: with the report of what came.
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        async for item in client:
            reader.item(item)
            if reader.done(client.state):
                break
    except FeedRefused as exc:
        if reader.received:
            reader.gap(f"the hub refused for good (last seq {reader.last_seq}): {exc}")
        else:
            reader.note(str(exc))
        return 1
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        await client.close()
    return 1 if reader.rejected else 0


def _from_hub(
    args: argparse.Namespace,
    report: IntervalReport,
    note: _Note,
    gaps: list[str],
    agents: AgentsReport | None,
) -> tuple[int, bool]:
    """Follow the hub up to its seq on joining (or a running replay's end); an interrupt
    ends it early, said in `gaps`.

    The exit status, and whether anything of the hub's day came at all.
    """
    since = args.since if args.since is not None else 0
    reader = _HubReader(report, note, since, so_far=args.so_far, agents=agents)
    reader.gaps = gaps
    try:
        return asyncio.run(_follow(args, reader)), reader.received
    except ValueError as exc:  # a URL FeedClient cannot use
        raise UsageError(str(exc)) from None
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        if not reader.received:
            # Nothing to report: ended as any command is (130 for Ctrl-C).
            if isinstance(exc, KeyboardInterrupt):
                raise
            return 128 + signal.SIGTERM, False
        at = "before the first event" if reader.last_seq is None else f"at seq {reader.last_seq}"
        how = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped (SIGTERM)"
        reader.gap(
            f"{how} {at} before the hub's source finished: "
            "calls that ended after it are not in the report"
        )
        return 0, True


def run(args: argparse.Namespace) -> int:
    """Run `callboard report`: the report on stdout, notes and bad lines on stderr.

    Exit status 1 when a line (or a hub's event) was rejected or the hub refused for
    good, 2 on usage errors (raised as `UsageError`), 0 otherwise.
    """
    try:
        settings = settings_from(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    tz: tzinfo | None = args.timezone
    report = IntervalReport(INTERVALS[args.interval], settings, tz)
    agents = AgentsReport(INTERVALS[args.interval], tz) if args.agents else None
    note = _Note(sys.stderr)
    gaps: list[str] = []
    hub = args.path.startswith(HUB_SCHEMES)
    if hub:
        if args.source_format is not None:
            raise UsageError("--from is for a log; a hub sends callboard events")
        status, received = _from_hub(args, report, note, gaps, agents)
        if not received:
            return status  # refused before anything came: no empty report
    else:
        for name, given in (
            ("--since", args.since),
            ("--cafile", args.cafile),
            ("--so-far", args.so_far or None),
        ):
            if given is not None:
                raise UsageError(f"{name} is for a hub URL (ws:// or wss://), not a log")
        status = _from_log(args, report, note, agents)
    zone = str(tz) if tz is not None else None
    # The flag only: `[board] mask_numbers` is the screen's, a report goes elsewhere.
    mask = bool(args.mask_numbers)
    if agents is not None:
        write_agents(agents, args.format, zone, args.path, sys.stdout, gaps, mask)
    else:
        write_report(report, args.format, zone, args.path, sys.stdout, gaps, mask)
    return status


def register(add_parser: AddParser) -> None:
    """Add the `callboard report` subcommand with `add_parser` (run by `run`)."""
    parser = add_parser(
        "report",
        help="finished calls per queue and per 15/30/60 minutes, with totals",
        description=(
            "The interval report: per queue and per interval, offered, answered, missed, "
            "abandoned, short abandons, voicemail, service level, ASA, average talk time, "
            "longest wait and abandon rate, and a totals row (docs/kpi.md, 'The interval "
            "report'). A call counts in the interval it ended in. With --agents: per agent "
            "and per interval, answered, missed, talk, pause by reason, logged-in time and "
            "occupancy, each agent's totals and all agents' (docs/kpi.md, 'The agents' "
            "report'), from the agents' day the board's agents panel shows. SOURCE is a "
            "log, read as `callboard classify` reads it (its totals are classify's counts), "
            "or a hub URL, "
            "followed from the first event it holds up to where it was on joining, or, when "
            "its source is a replay still running, until the replay has finished (Ctrl-C "
            "ends it early and reports what came). Exit status: 0, 1 when a line was "
            "rejected or the hub refused, 2 on usage errors."
        ),
    )
    parser.add_argument(
        "path",
        metavar="SOURCE",
        help="log file (plain or .gz), an Exotel records directory, - for stdin, "
        "or a hub URL (ws://HOST:PORT)",
    )
    parser.add_argument(
        "--agents",
        action="store_true",
        help="per agent instead of per queue: answered, missed (no answer or rejected), "
        "talk time, pause time by reason, logged-in time and occupancy, per interval "
        "and in total (docs/kpi.md, 'The agents' report')",
    )
    parser.add_argument(
        "--interval",
        choices=tuple(INTERVALS),
        default=DEFAULT_INTERVAL,
        help=f"interval length (default {DEFAULT_INTERVAL})",
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default table; json is one object with rows and totals)",
    )
    parser.add_argument(
        "--timezone",
        type=time_zone,
        default=None,
        metavar="ZONE",
        help="IANA time zone of the interval boundaries, e.g. Europe/London "
        "(default: each call's own UTC offset)",
    )
    add_mask_option(
        parser, "agent ids and any number in the queue and agent columns", "for shared reports"
    )
    add_threshold_options(parser)
    log = parser.add_argument_group("log")
    log.add_argument(
        "--from",
        dest="source_format",
        choices=FORMATS,
        default=None,
        help="what the log is (default: detected from the content, as classify does)",
    )
    hub = parser.add_argument_group("hub")
    hub.add_argument(
        "--since",
        type=bounded(int, 0),
        default=None,
        metavar="SEQ",
        help="start after this seq (default 0: everything the hub still holds)",
    )
    add_token_options(hub, what="bearer token the hub asks for")
    hub.add_argument("--cafile", default=None, help="CA bundle to trust for wss://")
    hub.add_argument(
        "--so-far",
        action="store_true",
        help="report the hub's day up to where it was when the report joined, even when "
        "its source is a replay still running (by default the report waits for a "
        "replay's end; any other hub is reported up to where it was on joining)",
    )
    hub.add_argument(
        "--max-attempts",
        type=int,
        default=None,
        metavar="N",
        help="give up after N failed connection attempts in a row (default: never)",
    )
    parser.set_defaults(func=run)
