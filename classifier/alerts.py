"""Alert rules judged against the day's figures: raise once, clear once.

A rule (`[[alerts.rules]]` in callboard.toml) names a metric, a threshold it must
go `above` or `below`, optionally one queue, and how long the condition must hold
(`for_s`) before it is raised, and how long it must stop holding (`clear_for_s`)
before it clears. `AlertWatch.observe` is given the figures as of an instant and
returns what changed: a rule raises when its condition has held for `for_s` and
clears when it has stopped holding for `clear_for_s`, with no repeat while it
holds. Pure (no
clock, no I/O): the hub feeds it event times and sends the changes as webhooks,
the board feeds it its clock and shows them, and both judge alike.

Hysteresis is a time (`clear_for_s`), not a band (`clear_below`): a longest wait
that dips because one caller was answered while the next has waited 25 s is the
same bad spell, and what tells it from a recovery is how long the dip lasts, in
whatever unit the metric has. A 30 s longest-wait rule flapped 229 times over a
simulated day with no hysteresis; one time works the same for every metric and is
one key beside `for_s`. The default 0 clears at once, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from classifier.agents import AgentsDay
from classifier.kpi import Kpis
from classifier.site_names import split_label


class Metric(StrEnum):
    """What a rule watches; each is one figure of a queue (or of the whole site)."""

    SERVICE_LEVEL_PCT = "service_level_pct"
    ABANDON_RATE_PCT = "abandon_rate_pct"
    LONGEST_WAIT_S = "longest_wait_s"
    CALLS_WAITING = "calls_waiting"
    AGENTS_AVAILABLE = "agents_available"


class AlertState(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


#: How each metric reads in an alert's one line.
METRIC_WORDS: dict[Metric, str] = {
    Metric.SERVICE_LEVEL_PCT: "service level",
    Metric.ABANDON_RATE_PCT: "abandon rate",
    Metric.LONGEST_WAIT_S: "longest wait",
    Metric.CALLS_WAITING: "calls waiting",
    Metric.AGENTS_AVAILABLE: "agents available",
}

#: The figures of one scope, by metric; None where there is no figure yet (a service
#: level before the first offered call): no condition holds on a missing figure.
Figures = Mapping[Metric, float | None]


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule; exactly one of `above` and `below` is set (the config checks it)."""

    name: str
    metric: Metric
    above: float | None = None
    below: float | None = None
    queue: str | None = None
    for_s: float = 0.0
    #: How long the condition must stop holding before a raised alert clears.
    clear_for_s: float = 0.0

    @property
    def threshold(self) -> float:
        """The number the figure is compared with."""
        value = self.above if self.above is not None else self.below
        assert value is not None, "a rule has above or below"
        return value

    def for_site(self, site: str) -> AlertRule:
        """The rule as the hub of `site` judges it on its own queue names: one naming
        `site/queue` judges its `queue`; any other is unchanged (one naming another
        site's queue judges nothing there)."""
        parts = None if self.queue is None else split_label(self.queue)
        if parts is None or parts[0] != site:
            return self
        return replace(self, queue=parts[1])

    def holds(self, value: float | None) -> bool:
        """Whether `value` breaks the rule (a missing figure never does)."""
        if value is None:
            return False
        if self.above is not None:
            return value > self.above
        return self.below is not None and value < self.below


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A rule raised or cleared for one queue (None: the whole site) at an instant."""

    rule: AlertRule
    queue: str | None
    value: float
    state: AlertState
    at: datetime

    @property
    def text(self) -> str:
        """One line a person reads (Slack and Teams show a webhook's `text` as is)."""
        where = f"queue {self.queue}" if self.queue is not None else "the site"
        words = METRIC_WORDS[self.rule.metric]
        side = "above" if self.rule.above is not None else "below"
        unit = (
            "%"
            if self.rule.metric.value.endswith("_pct")
            else (" s" if self.rule.metric is Metric.LONGEST_WAIT_S else "")
        )
        if self.state is AlertState.RAISED:
            return (
                f"{self.rule.name}: {where} {words} {self.value:g}{unit} is {side} "
                f"{self.rule.threshold:g}{unit}"
            )
        return (
            f"cleared {self.rule.name}: {where} {words} back to {self.value:g}{unit} "
            f"(limit {side} {self.rule.threshold:g}{unit})"
        )

    def record(self) -> dict[str, object]:
        """The webhook's JSON body (docs/config.md, 'Webhook')."""
        return {
            "rule": self.rule.name,
            "metric": self.rule.metric.value,
            "queue": self.queue,
            "value": self.value,
            "threshold": self.rule.threshold,
            "state": self.state.value,
            "at": self.at.isoformat(),
            "text": self.text,
        }


def available_by_queue(agents: AgentsDay, queues: Iterable[str]) -> dict[str, int]:
    """Agents available now for each of `queues`, each queue judged alone (issue 17).

    A queue's agents are those the feed named with it (`AgentsDay.staffing`); a queue
    no agent was ever seen serving (a source that never names the two together) is
    given the whole site's available agents, as before agents had queues, rather
    than a 0 that would raise an "agents available below" alert nobody can act on.
    """
    now = agents.staffing()
    return {
        queue: (now.by_queue[queue].available if queue in now.by_queue else 0)
        if queue in now.served
        else now.available
        for queue in queues
    }


def figures_of(kpis: Kpis, agents_available: int | None = None) -> dict[Metric, float | None]:
    """A scope's figures for the rules, out of its header KPIs (fractions as percent)."""
    return {
        Metric.SERVICE_LEVEL_PCT: None
        if kpis.service_level is None
        else round(kpis.service_level * 100, 1),
        Metric.ABANDON_RATE_PCT: None
        if kpis.abandon_rate is None
        else round(kpis.abandon_rate * 100, 1),
        Metric.LONGEST_WAIT_S: round(kpis.longest_wait_now_s, 1),
        Metric.CALLS_WAITING: float(kpis.waiting_now),
        Metric.AGENTS_AVAILABLE: None if agents_available is None else float(agents_available),
    }


@dataclass(slots=True)
class _Watch:
    since: datetime | None = None
    raised: bool = False
    #: When the condition of a raised alert stopped holding (None while it holds).
    calm_since: datetime | None = None
    #: The last figure judged: what a clear reports when the figure went away.
    last: float = 0.0


class AlertWatch:
    """Every rule's state per queue; `observe` returns what raised and cleared.

    Memory is one small record per rule and queue it judged: bounded by the rules
    times the queues the centre has.
    """

    def __init__(self, rules: tuple[AlertRule, ...]) -> None:
        self.rules = rules
        self._state: dict[tuple[int, str | None], _Watch] = {}

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-safe: each rule's state per queue, by the rule's name (for a checkpoint)."""
        return [
            {
                "rule": self.rules[index].name,
                "queue": queue,
                "since": None if watch.since is None else watch.since.isoformat(),
                "raised": watch.raised,
                "calm_since": None if watch.calm_since is None else watch.calm_since.isoformat(),
                "last": watch.last,
            }
            for (index, queue), watch in self._state.items()
        ]

    def load(self, data: Any) -> None:
        """Take the states `to_dict` gave, for the rules of the same name (others: dropped,
        as a rule renamed or removed from the config no longer holds anything).

        Raises ValueError for data that is not what `to_dict` writes.
        """
        if not isinstance(data, list):
            raise ValueError("the alert states are not a list")
        index_of: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            index_of.setdefault(rule.name, index)
        try:
            for item in data:
                found = index_of.get(item["rule"])
                if found is None:
                    continue
                self._state[(found, item["queue"])] = _Watch(
                    since=_time(item["since"]),
                    raised=bool(item["raised"]),
                    calm_since=_time(item["calm_since"]),
                    last=float(item["last"]),
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"an alert state is not readable: {exc!r}") from None

    def raised(self) -> list[tuple[AlertRule, str | None]]:
        """The alerts raised and not yet cleared."""
        return [
            (self.rules[index], queue)
            for (index, queue), watch in self._state.items()
            if watch.raised
        ]

    def observe(self, at: datetime, queues: Mapping[str, Figures]) -> list[AlertChange]:
        """Judge every rule on each queue's figures as of `at`; the changes, in rule order.

        A rule with a queue judges that queue (no figures yet: nothing holds), or on a
        board of several sites that queue at every site, each alone (`_scopes`); one
        without judges each queue of `queues` alone (none yet: nothing to judge).
        """
        changes: list[AlertChange] = []
        for index, rule in enumerate(self.rules):
            scopes: list[tuple[str | None, Figures | None]] = (
                list(queues.items()) if rule.queue is None else _scopes(rule.queue, queues)
            )
            seen = {queue for queue, _ in scopes}
            for queue, figures in scopes:
                value = None if figures is None else figures.get(rule.metric)
                change = self._judge(index, rule, queue, value, at)
                if change is not None:
                    changes.append(change)
            # A queue gone from the figures (a new day) no longer holds anything.
            for (other, queue), watch in list(self._state.items()):
                if other == index and queue not in seen and watch.raised:
                    change = self._judge(index, rule, queue, None, at)
                    if change is not None:
                        changes.append(change)
        return changes

    def _judge(
        self, index: int, rule: AlertRule, queue: str | None, value: float | None, at: datetime
    ) -> AlertChange | None:
        key = (index, queue)
        watch = self._state.get(key)
        if rule.holds(value):
            assert value is not None
            if watch is None:
                watch = self._state[key] = _Watch()
            watch.last = value
            watch.calm_since = None  # a dip shorter than clear_for_s is the same spell
            if watch.since is None:
                watch.since = at
            if not watch.raised and (at - watch.since).total_seconds() >= rule.for_s:
                watch.raised = True
                return AlertChange(rule, queue, value, AlertState.RAISED, at)
            return None
        if watch is None:
            return None
        watch.since = None
        if value is not None:
            watch.last = value
        if watch.raised:
            if watch.calm_since is None:
                watch.calm_since = at
            if (at - watch.calm_since).total_seconds() < rule.clear_for_s:
                return None
            watch.raised = False
            watch.calm_since = None
            return AlertChange(rule, queue, watch.last, AlertState.CLEARED, at)
        return None


def _scopes(queue: str, queues: Mapping[str, Figures]) -> list[tuple[str | None, Figures | None]]:
    """The queues a rule naming `queue` judges: that queue; on a board of several sites,
    where queues are `site/queue`, a plain name judges that queue at every site, each
    alone, as a plain threshold applies at every site (docs/kpi.md, "Several sites")."""
    if queue in queues:
        return [(queue, queues[queue])]
    at_sites: list[tuple[str | None, Figures | None]] = []
    for name, figures in queues.items():
        parts = split_label(name)
        if parts is not None and parts[1] == queue:
            at_sites.append((name, figures))
    return at_sites or [(queue, None)]


def _time(text: object) -> datetime | None:
    """An ISO time from `AlertWatch.to_dict`, or None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    return datetime.fromisoformat(text)
