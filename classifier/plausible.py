"""Plausible event times: the window an event's time must fall in to be believed.

A source's clock is somebody else's clock. The schema accepts any time from year 1
to 9999 with any offset, and one event dated 9999 or 2100 is enough to wreck every
board that shows it (its clock runs on from the newest event time) and to sit in
every hub snapshot until its call ends, which it never does. So the hub holds each
event's time against three references and refuses what falls outside, with the
reason in words (`docs/protocol.md`, "Event times"):

* **The hub's clock, for live sources** (producers on `/publish`, a followed log,
  the simulator): at most `FUTURE_S` ahead. Nothing is refused for being old: late
  events are normal (a producer emptying its buffer after an outage), and an old
  time cannot move a board's clock, which never runs backwards.
* **A replayed log's own time**: a log is a record of the past, but `serve --loop`
  moves each pass on by the log's span, so a long-running replay legitimately
  passes the hub's clock. A replayed event may be at most `REPLAY_AHEAD_S` ahead of
  the later of the hub's clock and the newest time the replay gave so far. Quiet
  stretches in a log (nights, weekends, a week's closure) fit in that window; a
  lone event years ahead does not. (Comparing with the hub's clock alone would
  refuse a looped replay's later passes; with the log's newest time alone, every
  event after a real gap longer than the window.)
* **The call's start**: every event of a call within `CALL_SPAN_S` of its call's
  first event, before or after. A call has no business lasting a day; an event a
  year away from its call is a wrong clock or a reused call id, and merging it
  would show a call waiting for a year.

Pure: the caller passes the reference time (epoch seconds), so the hub, a test or
an offline tool can share the rule. `TimeWindow` keeps the one piece of state the
rule needs (the replay's newest time).
"""

from __future__ import annotations

import math
from datetime import datetime

from classifier.schema import Event

#: How far a live source's event may be ahead of the hub's clock. PBX clocks drift:
#: NTP keeps them within a second, and a quartz clock off NTP drifts a few seconds a
#: day (20 ppm is under 2 s), so five minutes covers a clock left unsynchronised
#: for months. It is also the clock skew Kerberos tolerates by default. An event
#: whose offset is wrong by an hour (a zone mistake) is refused: it would show every
#: duration of its call an hour out.
FUTURE_S = 5 * 60.0
#: How far a replayed event may be ahead of the later of the hub's clock and the
#: replay's newest time so far: the longest quiet stretch a real log has (a centre
#: closed for a week).
REPLAY_AHEAD_S = 7 * 24 * 3600.0
#: How far from its call's first event (either way) an event may be.
CALL_SPAN_S = 24 * 3600.0


def span(seconds: float) -> str:
    """A length of time in words, as rough as a reason needs: 42 s, 12 min, 7 h, 3 days."""
    seconds = abs(seconds)
    if not math.isfinite(seconds):
        return "forever"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:,.0f} days"


def time_problem(
    event: Event,
    reference: float,
    ahead_s: float = FUTURE_S,
    call_start: datetime | None = None,
    reference_name: str = "the hub's clock",
    at: float | None = None,
) -> str | None:
    """Why `event`'s time is not to be believed, in words; None when it is plausible.

    `reference`: epoch seconds the event may be at most `ahead_s` after (named
    `reference_name` in the reason). `call_start`: when the event's call began, if
    the call is known; the event must then be within `CALL_SPAN_S` of it. `at`: the
    event's time as epoch seconds, when the caller has it already.
    """
    if at is None:
        at = event.ts.timestamp()  # exact for any aware datetime, years 1 to 9999
    if at > reference + ahead_s:
        return (
            f"implausible time: {_when(event)} is {span(at - reference)} ahead of {reference_name}"
            f" (at most {span(ahead_s)} ahead is accepted)"
        )
    if call_start is not None:
        gap = at - call_start.timestamp()
        if abs(gap) > CALL_SPAN_S:
            side = "after" if gap > 0 else "before"
            return (
                f"implausible time: {_when(event)} is {span(gap)} {side} the start of call"
                f" {event.call_id!r} ({call_start.isoformat()}; at most {span(CALL_SPAN_S)}"
                " either way is accepted)"
            )
    return None


def _when(event: Event) -> str:
    return f"{event.type} at {event.ts.isoformat()}"


class TimeWindow:
    """The hub's side of the rule: the reference for each event, and a replay's newest time."""

    def __init__(
        self,
        future_s: float = FUTURE_S,
        replay_ahead_s: float = REPLAY_AHEAD_S,
    ) -> None:
        self.future_s = future_s
        self.replay_ahead_s = replay_ahead_s
        #: The newest time (epoch seconds) of a plausible replayed event so far.
        self.replay_newest = -math.inf

    def problem(
        self, event: Event, now: float, replayed: bool, call_start: datetime | None = None
    ) -> str | None:
        """Why `event` is refused, or None; `now` is the hub's clock (epoch seconds).

        `replayed`: the event comes from a log being replayed, so it is held to the
        replay's window (see the module docstring), and, when plausible, moves the
        replay's newest time on.
        """
        if not replayed:
            return time_problem(event, now, self.future_s, call_start)
        if now >= self.replay_newest:
            reference, name = now, "the hub's clock"
        else:
            reference, name = self.replay_newest, "the replay's newest time"
        at = event.ts.timestamp()
        problem = time_problem(event, reference, self.replay_ahead_s, call_start, name, at)
        if problem is None and at > self.replay_newest:
            self.replay_newest = at
        return problem
