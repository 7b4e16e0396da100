"""Shared by the tests of the centre's day: a board following a real hub, and what it shows.

`BoardFollower` feeds a real `monitor.board.Board` from a real `FeedClient`, exactly as
the wallboard's hub feed does (`monitor.app.hub_feed`): snapshot with the hub's day,
then events. `shown` is everything the header, the per-queue table, the panels and
the agents panel draw, for comparing two boards.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from classifier.day import WINDOWS, DayState
from classifier.kpi import KpiSettings
from classifier.schema import Event, event_from_dict
from classifier.tracker import CallTracker
from monitor.agents_view import AgentSort, agent_rows
from monitor.board import PANEL_ORDER, Board, Filter
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from tests.hub_support import DEADLINE, wait_for


class BoardFollower:
    """A board following the hub at `url`, as `callboard watch` feeds its board."""

    def __init__(self, url: str, board: Board | None = None) -> None:
        self.board = board or Board()
        self.client = FeedClient(url)
        self.snapshots = 0
        self.task: asyncio.Task[None] = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.client:
            if isinstance(item, Snapshot):
                self.snapshots += 1
                self.board.load_snapshot(
                    item.calls, item.presence, item.seq, item.hub_id, day=item.day
                )
            elif isinstance(item, SourceStatus):
                continue
            else:
                self.board.apply(item)

    async def caught_up(self, seq: int) -> None:
        """Wait until the board has applied the hub's events up to `seq`."""
        await wait_for(
            lambda: self.snapshots > 0 and (self.board.last_seq or 0) >= seq,
            f"a board to reach seq {seq}",
        )

    async def stop(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.task, DEADLINE)


def shown(board: Board, now: datetime) -> dict[str, Any]:
    """What a board's header, per-queue table and panels show at `now`, in every window."""
    figures = {window.value: board.kpis(now, window) for window in WINDOWS}
    panels = {
        outcome.value: (
            board.panels[outcome].total,
            board.count_today(outcome),
            [(f.verdict, f.call.caller, f.call.callee, f.seq) for f in board.finished(outcome)],
        )
        for outcome in PANEL_ORDER
    }
    return {
        "figures": figures,
        "panels": panels,
        "queues": board.queues(),
        "day": board.day.day,
        "counted_from": board.day.counted_from,
        "late": board.day.late,
        "agents": agents_shown(board, now),
    }


def agents_shown(board: Board, now: datetime) -> dict[str, Any]:
    """The agents panel's rows in its order (every figure a row shows at `now`), the
    counts by state and per queue; not the stories, which a late board has the newest of."""
    rows = [
        (
            agent.name,
            agent.state,
            agent.since,
            agent.reason,
            agent.call,
            list(agent.queues),
            agent.answered,
            agent.not_answered,
            agent.talk_until(now),
            agent.talks,
            agent.average_talk_s,
            agent.pause_until(now),
            agent.pauses,
            agent.logged_in_until(now),
            agent.occupancy(now),
            agent.story_dropped + len(agent.story),
        )
        for agent in agent_rows(board.agents, AgentSort.STATE, Filter())
    ]
    return {
        "rows": rows,
        "by_state": board.agent_counts(),
        "by_queue": board.agents.by_queue(),
        "refused": board.agents.agents_refused,
    }


#: The first day of the journal tests' days (a UTC midnight).
DAY1 = datetime(2026, 11, 30, tzinfo=UTC)


def day_calls(days: int, per_day: int, across: bool = True, presence: bool = True) -> list[Event]:
    """`per_day` answered calls a day from DAY1 for `days` days (ids unique), the agent's
    presence each morning (with `presence`), and (with `across`) one call a day that
    starts before midnight and ends after it."""
    events: list[dict[str, Any]] = []
    for d in range(days):
        base = DAY1 + timedelta(days=d, hours=9)
        if presence:
            events.append(
                {
                    "type": "agent.status",
                    "agent": "ann",
                    "ts": base.isoformat(),
                    "status": "available",
                }
            )
        for i in range(per_day):
            t = base + timedelta(minutes=5 * i)
            cid = f"d{d}-c{i}"
            for offset, extra in (
                (0, {"type": "call.started", "from": "+1"}),
                (1, {"type": "queue.entered", "queue": "sales"}),
                (3, {"type": "agent.answered", "agent": "ann"}),
                (60, {"type": "call.ended", "by": "caller"}),
            ):
                ts = (t + timedelta(seconds=offset)).isoformat()
                events.append({"call_id": cid, "ts": ts, **extra})
        if across and d + 1 < days:
            late = DAY1 + timedelta(days=d + 1, seconds=-30)
            cid = f"d{d}-late"
            events.append({"type": "call.started", "call_id": cid, "ts": late.isoformat()})
            events.append(
                {"type": "queue.entered", "call_id": cid, "ts": late.isoformat(), "queue": "q"}
            )
            # Its end comes after midnight, in the next day's events (below).
            end = (late + timedelta(seconds=90)).isoformat()
            events.append({"type": "call.ended", "call_id": cid, "ts": end, "by": "caller"})
    return [event_from_dict(e) for e in sorted(events, key=lambda e: e["ts"])]


def counted_day(events: list[Event], settings: KpiSettings | None = None) -> DayState:
    """The day a hub with `settings` counts from these events (as `Hub._count_day` does)."""
    tracker, day = CallTracker(), DayState(settings, mark_start=True)
    for event in events:
        applied = tracker.apply(event)
        day.advance(event.ts)
        if applied.verdict is not None and applied.call is not None:
            day.add(applied.verdict, applied.call.caller, applied.call.callee, event.seq)
    return day
