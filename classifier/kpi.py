"""Wallboard KPIs: what a supervisor reads off the header, as pure functions.

Every formula, and the choices behind it, is written out in `docs/kpi.md`; the
tests compute each one against a hand-worked fixture in `fixtures/kpi/`.

In short: only inbound calls are *offered*; a call counts on the day it ended;
a *short abandon* (abandoned after waiting less than 5 s) is taken out of both
the numerator and the denominator of the abandon rate and out of the
denominator of the service level; ASA is the mean wait of answered calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from classifier.call import Call, Phase
from classifier.schema import Direction
from classifier.site_names import split_label
from classifier.verdict import Outcome

#: Default service-level threshold: answered within 20 seconds.
SERVICE_LEVEL_S = 20.0
#: Abandons quicker than this are not held against the centre.
SHORT_ABANDON_S = 5.0

#: Phases in which an open call is waiting for an agent.
WAITING_PHASES = frozenset({Phase.QUEUED, Phase.RINGING})


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """Thresholds; a queue without its own service-level threshold uses the default.

    On a board of several sites queues are labelled `site/queue`: a threshold named
    `queue` applies to that queue at every site, one named `site/queue` at that site
    only, and the more specific one wins (docs/kpi.md, "Several sites").
    """

    service_level_s: float = SERVICE_LEVEL_S
    short_abandon_s: float = SHORT_ABANDON_S
    queue_service_level_s: Mapping[str, float] = field(default_factory=dict)

    def threshold(self, queue: str | None) -> float:
        """The service-level threshold that applies to a call in `queue`: the queue's
        own, else (for a labelled `site/queue`) the plain queue's, else the default."""
        if queue is None or not self.queue_service_level_s:
            return self.service_level_s
        found = self.queue_service_level_s.get(queue)
        if found is None:
            parts = split_label(queue)
            if parts is not None:
                found = self.queue_service_level_s.get(parts[1])
        return self.service_level_s if found is None else found

    def for_site(self, site: str) -> KpiSettings:
        """These settings as they apply to one site's own queue names (not labelled):
        the plain queues' thresholds, the site's `site/queue` ones over them, other
        sites' left out. What a site's hub counts with to agree with a board of sites
        given these settings (`classifier.sites.merge_days`)."""
        plain: dict[str, float] = {}
        own: dict[str, float] = {}
        for name, seconds in self.queue_service_level_s.items():
            parts = split_label(name)
            if parts is None:
                plain[name] = seconds
            elif parts[0] == site:
                own[parts[1]] = seconds
        return replace(self, queue_service_level_s=plain | own)


class Counted(Protocol):
    """What a tally reads of a finished call: a `Verdict`, or a `Judgement` (`report`)."""

    @property
    def outcome(self) -> Outcome | None:
        """How the call ended."""
        ...

    @property
    def direction(self) -> str:
        """`Direction`'s value: only inbound calls are offered."""
        ...

    @property
    def queue(self) -> str | None:
        """The queue whose service-level threshold applies."""
        ...

    @property
    def wait_s(self) -> float:
        """The caller's wait, rounded as the record's."""
        ...


@dataclass(slots=True)
class Tally:
    """Running counts of finished calls; `Kpis` are computed from these."""

    offered: int = 0
    answered: int = 0
    answered_in_threshold: int = 0
    missed: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    voicemail: int = 0
    outbound: int = 0
    outbound_connected: int = 0
    not_connected: int = 0
    answer_wait_total_s: float = 0.0

    def add(self, verdict: Counted, settings: KpiSettings) -> None:
        """Count one finished call."""
        if verdict.direction != Direction.INBOUND.value:
            self.outbound += 1
            if verdict.outcome is Outcome.COMPLETED:
                self.outbound_connected += 1
            else:
                self.not_connected += 1
            return
        self.offered += 1
        match verdict.outcome:
            case Outcome.COMPLETED:
                self.answered += 1
                self.answer_wait_total_s += verdict.wait_s
                if verdict.wait_s <= settings.threshold(verdict.queue):
                    self.answered_in_threshold += 1
            case Outcome.MISSED:
                self.missed += 1
            case Outcome.ABANDONED:
                self.abandoned += 1
                if verdict.wait_s < settings.short_abandon_s:
                    self.short_abandons += 1
            case Outcome.VOICEMAIL:
                self.voicemail += 1
            case _:
                # An inbound call with an outbound-only outcome cannot come from the
                # rules; it is still offered, so the totals stay honest.
                pass


@dataclass(frozen=True, slots=True)
class Waiting:
    """Calls waiting for an agent right now."""

    count: int = 0
    longest_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Kpis:
    """The header figures for one scope (the whole day, or one queue)."""

    offered: int
    answered: int
    missed: int
    abandoned: int
    short_abandons: int
    voicemail: int
    outbound: int
    not_connected: int
    waiting_now: int
    longest_wait_now_s: float
    #: Fractions in 0..1, or None while their denominator is zero.
    service_level: float | None
    abandon_rate: float | None
    #: Average speed of answer in seconds, or None before the first answer.
    asa_s: float | None


def service_level(tally: Tally) -> float | None:
    """Answered within the threshold / (offered - short abandons)."""
    base = tally.offered - tally.short_abandons
    return tally.answered_in_threshold / base if base > 0 else None


def abandon_rate(tally: Tally) -> float | None:
    """(abandoned - short abandons) / (offered - short abandons)."""
    base = tally.offered - tally.short_abandons
    return (tally.abandoned - tally.short_abandons) / base if base > 0 else None


def average_speed_of_answer(tally: Tally) -> float | None:
    """Total wait of answered calls / answered calls, in seconds."""
    return tally.answer_wait_total_s / tally.answered if tally.answered else None


def kpis(tally: Tally, waiting: Waiting | None = None) -> Kpis:
    """All header figures for one scope."""
    waiting = waiting or Waiting()
    return Kpis(
        offered=tally.offered,
        answered=tally.answered,
        missed=tally.missed,
        abandoned=tally.abandoned,
        short_abandons=tally.short_abandons,
        voicemail=tally.voicemail,
        outbound=tally.outbound,
        not_connected=tally.not_connected,
        waiting_now=waiting.count,
        longest_wait_now_s=waiting.longest_s,
        service_level=service_level(tally),
        abandon_rate=abandon_rate(tally),
        asa_s=average_speed_of_answer(tally),
    )


def is_waiting(call: Call) -> bool:
    """An open inbound call in a queue, not yet answered (queued, or ringing an agent)."""
    return (
        call.ended is None
        and call.direction is Direction.INBOUND
        and call.answered_at is None
        and call.phase in WAITING_PHASES
    )


def waiting_now(calls: Iterable[Call], now: datetime) -> tuple[Waiting, dict[str, Waiting]]:
    """Calls waiting now and the longest wait, overall and per queue."""
    # A waiting call is unanswered, so its wait is `now - wait_from`: keep the
    # earliest start per queue instead of computing thousands of waits.
    count = 0
    earliest: datetime | None = None
    per_queue: dict[str, tuple[int, datetime]] = {}
    for call in calls:
        if not is_waiting(call):
            continue
        since = call.wait_from
        count += 1
        if earliest is None or since < earliest:
            earliest = since
        if call.queue is not None:
            seen = per_queue.get(call.queue)
            if seen is None:
                per_queue[call.queue] = (1, since)
            else:
                per_queue[call.queue] = (seen[0] + 1, min(seen[1], since))

    def longest(since: datetime | None) -> float:
        return 0.0 if since is None else max(0.0, (now - since).total_seconds())

    return Waiting(count, longest(earliest)), {
        queue: Waiting(n, longest(since)) for queue, (n, since) in per_queue.items()
    }
