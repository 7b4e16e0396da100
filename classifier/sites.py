"""Several sites on one board: site names, labelled events, and the day of all sites.

A board watching several hubs (`callboard watch URL URL ...`) shows them as one
centre. Each hub serves one site (`serve --site NAME`). Before the board sees an
event, its call id, queue and agent are labelled with the site (`a/call-1`,
`a/sales`, `a/alice`), so two sites' call ids cannot collide, their queues are
told apart on screen, and the board's tracker, reasons and stories work on them
unchanged: the one pipeline, fed labelled events.

The day of all sites is a `SitesDay`: a `DayState` whose queues are the sites'
labelled queues, whose total is the sum of the sites', and which also keeps one
row per site, `a/*` (the site's whole day, calls without a queue included), so
the per-queue table shows each site above its queues and the header the total.
`merge_days` builds it from each hub's own day (from its snapshot); the board
then adds its labelled verdicts to it as a board adds to any day.

Pure: no I/O, used by `monitor.app.sites_feed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from typing_extensions import override

from classifier.call import Call
from classifier.call_state import OpenCall
from classifier.day import (
    PANEL_ROWS,
    Counted,
    DayState,
    Ended,
    combined,
    tally_from_dict,
    tally_to_dict,
)
from classifier.kpi import KpiSettings, Tally
from classifier.schema import Event
from classifier.site_names import SEPARATOR, SITE_PATTERN
from classifier.verdict import Verdict

#: The site of a hub that was not given one (`serve --site`).
DEFAULT_SITE = "main"
#: The name of a site's own row in the per-queue table (`a/*`).
SITE_ROW = "*"


def check_site(name: str) -> str:
    """`name` if it is a site name; ValueError saying what a site name may be."""
    if not isinstance(name, str) or not SITE_PATTERN.fullmatch(name):
        raise ValueError(
            f"site {str(name)[:80]!r} is not a site name: 1-64 letters, digits, '-' or '_'"
        )
    return name


def label(site: str, name: str) -> str:
    """`name` (a call id, queue or agent) as the board of several sites shows it: `site/name`."""
    return f"{site}{SEPARATOR}{name}"


def site_row(site: str) -> str:
    """The per-queue table's row of a whole site: `site/*`."""
    return label(site, SITE_ROW)


def site_of(name: str) -> str | None:
    """The site a labelled name belongs to, or None for a name without one."""
    site, sep, _ = name.partition(SEPARATOR)
    return site if sep and site else None


def labelled(event: Event, site: str) -> Event:
    """The event with its call id, queue and agent labelled with `site` (see the docstring)."""
    update: dict[str, Any] = {}
    if event.call_id:
        update["call_id"] = label(site, event.call_id)
    queue = getattr(event, "queue", None)
    if queue is not None:
        update["queue"] = label(site, queue)
    agent = getattr(event, "agent", None)
    if agent is not None:
        update["agent"] = label(site, agent)
    return event.model_copy(update=update)


def labelled_call(call: Call, site: str) -> Call:
    """A site's call in progress labelled as its events are, through its snapshot form.

    The labelled call is rebuilt from `OpenCall`, the state a snapshot carries, so
    it continues exactly as the original would (its events are not carried: a
    board's story of it starts with the summary line, as after any snapshot).
    """
    state = OpenCall.of(call)
    update: dict[str, Any] = {
        "id": label(site, state.id),
        "rung": [(label(site, agent), result) for agent, result in state.rung],
    }
    if state.queue is not None:
        update["queue"] = label(site, state.queue)
    if state.agent is not None:
        update["agent"] = label(site, state.agent)
    return state.model_copy(update=update).call()


def labelled_verdict(verdict: Verdict, site: str) -> Verdict:
    """A site's verdict with its call id, queue and agents labelled, as its events are."""
    return replace(
        verdict,
        call_id=label(site, verdict.call_id),
        queue=None if verdict.queue is None else label(site, verdict.queue),
        agents_rung=tuple(label(site, a) for a in verdict.agents_rung),
    )


class SitesDay(DayState):
    """The day of several sites: a `DayState` that also counts each site's row (`a/*`)."""

    @override
    def add(
        self, verdict: Verdict, caller: str = "", callee: str = "", seq: int | None = None
    ) -> Counted:
        """Count a labelled finished call in the day, its queue and its site's row."""
        counted = super().add(verdict, caller, callee, seq)
        site = site_of(verdict.call_id)
        if counted is not Counted.LATE and site is not None and verdict.ended_at is not None:
            row = site_row(site)
            self.queues.setdefault(row, Tally()).add(verdict, self.settings)
            ended = datetime.fromisoformat(verdict.ended_at)
            self.windows.add_to(row, verdict, ended, self.settings)
        return counted

    @override
    def to_dict(self, with_rows: bool = True) -> dict[str, Any]:
        """`DayState.to_dict` and `"sites": true`, so `day_from_dict` reads a `SitesDay` back."""
        return super().to_dict(with_rows) | {"sites": True}


def day_from_dict(data: Any) -> DayState:
    """A day as `to_dict` gave it: a `SitesDay` when it says `sites`, else a `DayState`."""
    if isinstance(data, Mapping) and data.get("sites") is True:
        return SitesDay.from_dict(data)
    return DayState.from_dict(data)


def merge_days(
    days: Mapping[str, DayState | None],
    panel_rows: int = PANEL_ROWS,
    settings: KpiSettings | None = None,
) -> SitesDay:
    """One `SitesDay` from each site's own day (None: a site that sent none yet).

    The merged day is the latest day any site is on; a site still on an earlier
    one (no event since the boundary) adds nothing to it. Counts and windows add
    up, queues and finished calls are labelled with their site, and the newest
    finished calls of all sites, newest first, fill the panels. The clock is the
    first site's. The service-level settings are `settings` (the board's) when every
    site's day was counted with them as they apply to that site
    (`KpiSettings.for_site`: `sales=30` at every site, `a/sales=30` at site a only);
    else, or without `settings`, the first site's whose differ, or the first site's
    (a board refuses a hub's day whose settings are not its own, and says so:
    `monitor.board.Board`).
    """
    present = {site: day for site, day in days.items() if day is not None}
    if not present:
        return SitesDay(settings, panel_rows=panel_rows, mark_start=True)
    data = next(iter(present.values())).to_dict()
    current = max((d.day for d in present.values() if d.day is not None), default=None)
    today = {site: day for site, day in present.items() if day.day == current}
    starts = [d.counted_from for d in today.values() if d.counted_from is not None]
    rows: list[tuple[datetime, dict[str, Any]]] = []
    queues: dict[str, Tally] = {}
    panel_counts: dict[str, int] = {}
    for site, day in today.items():
        for queue, tally in day.queues.items():
            queues[label(site, queue)] = tally
        queues[site_row(site)] = day.total
        for outcome, count in day.panel_counts.items():
            panel_counts[outcome.value] = panel_counts.get(outcome.value, 0) + count
        for recent in day.recent.values():
            for row in recent:
                ended = Ended(labelled_verdict(row.verdict, site), row.caller, row.callee, row.seq)
                rows.append((datetime.fromisoformat(row.verdict.ended_at or ""), ended.to_dict()))
    rows.sort(key=lambda item: item[0], reverse=True)
    recent_rows: dict[str, list[dict[str, Any]]] = {}
    for _, item in rows:
        kept = recent_rows.setdefault(item["outcome"] or "missed", [])
        if len(kept) < panel_rows:
            kept.append(item)
    data |= {
        "day": None if current is None else current.isoformat(),
        "counted_from": max(starts).isoformat() if starts else None,
        "mark_start": True,
        "late": sum(day.late for day in present.values()),
        "total": tally_to_dict(combined(day.total for day in today.values())),
        "queues": {q: tally_to_dict(t) for q, t in queues.items()},
        "panel_counts": panel_counts,
        "panel_rows": panel_rows,
        "recent": recent_rows,
        "windows": _merged_windows(today),
    }
    # Built as plain data and read back: `from_dict` is the one way into a day.
    merged = SitesDay.from_dict(data)
    assert isinstance(merged, SitesDay)
    if settings is not None:
        unfit = [d.settings for s, d in present.items() if d.settings != settings.for_site(s)]
        merged.settings = unfit[0] if unfit else settings
    return merged


def _merged_windows(days: Mapping[str, DayState]) -> list[dict[str, Any]]:
    """The sites' per-minute tallies added up, their queues and site rows labelled."""
    minutes: dict[int, tuple[list[Tally], dict[str, list[Tally]]]] = {}
    for site, day in days.items():
        for item in day.windows.to_dict():
            totals, queues = minutes.setdefault(item["minute"], ([], {}))
            total = tally_from_dict(item["total"])
            totals.append(total)
            queues.setdefault(site_row(site), []).append(total)
            for queue, tally in item["queues"].items():
                queues.setdefault(label(site, queue), []).append(tally_from_dict(tally))
    return [
        {
            "minute": minute,
            "total": tally_to_dict(combined(totals)),
            "queues": {q: tally_to_dict(combined(t)) for q, t in queues.items()},
        }
        for minute, (totals, queues) in sorted(minutes.items())
    ]
