"""The sections of callboard.toml as pydantic models: a model per section.

Every model forbids keys it does not know (`extra="forbid"`), so a misspelt key is
an error naming it rather than a setting silently ignored. docs/config.md documents
every key; `monitor.config.example` is a file that validates against these models
(tests/test_config.py checks it).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifier.agents import AgentState
from classifier.alerts import AlertRule, Metric
from classifier.kpi import SERVICE_LEVEL_S, SHORT_ABANDON_S
from classifier.rules import HangupWhileRinging
from classifier.site_names import split_label
from classifier.sites import label
from classifier.verdict import Outcome
from monitor.agents_view import AgentThresholds
from monitor.board import SortKey

#: The defaults of a queue's targets when neither the queue nor `[queues."*"]` sets them.
SL_TARGET_PCT = 80.0
WAIT_WARN_S = 60.0
WAIT_ALERT_S = 120.0
ABANDON_WARN_PCT = 10.0

#: `[board] sort`: SortKey by the short name a config file uses.
SORTS: dict[str, SortKey] = {key.name.lower(): key for key in SortKey}

Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Section(BaseModel):
    """A table of the file: unknown keys are errors, the file's types are kept as given."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class QueueSection(Section):
    """`[queues.NAME]` (or `[queues."*"]`, the defaults of every queue)."""

    label: str | None = None
    hidden: bool | None = None
    sl_threshold_s: Seconds | None = None
    sl_target_pct: Percent | None = None
    short_abandon_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    wait_warn_s: Seconds | None = None
    wait_alert_s: Seconds | None = None
    abandon_warn_pct: Percent | None = None

    # strict mode refuses an int for a float; a TOML author writes 20 for 20.0.
    @field_validator(
        "sl_threshold_s",
        "sl_target_pct",
        "short_abandon_s",
        "wait_warn_s",
        "wait_alert_s",
        "abandon_warn_pct",
        mode="before",
    )
    @classmethod
    def _number(cls, value: object) -> object:
        return _as_float(value)


class RulesSection(Section):
    """`[rules]`: the centre's choices where vendors count differently."""

    hangup_while_ringing: HangupWhileRinging = HangupWhileRinging.MISSED

    @field_validator("hangup_while_ringing", mode="before")
    @classmethod
    def _choice(cls, value: object) -> object:
        if isinstance(value, str) and value in {choice.value for choice in HangupWhileRinging}:
            return HangupWhileRinging(value)
        raise ValueError('must be "missed" or "abandoned"')


class BoardSection(Section):
    """`[board]`: how the board starts (a command-line flag wins over each)."""

    sort: Literal["waiting", "total", "state", "queue", "caller"] | None = None
    panels: (
        list[Literal["completed", "missed", "abandoned", "voicemail", "not_connected"]] | None
    ) = None
    refresh_rate_hz: Annotated[float, Field(ge=0.2, le=60, allow_inf_nan=False)] | None = None
    mask_numbers: bool | None = None
    theme: str | None = None

    @field_validator("refresh_rate_hz", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        return _as_float(value)

    @property
    def sort_key(self) -> SortKey | None:
        """The sort as the board's own key."""
        return None if self.sort is None else SORTS[self.sort]

    @property
    def outcomes(self) -> list[Outcome] | None:
        """The panels as outcomes."""
        return None if self.panels is None else [Outcome(name) for name in self.panels]


class DaySection(Section):
    """`[day]`: where the day's figures start again (the day-state issue reads these)."""

    timezone: str | None = None
    day_start: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r} (an IANA name, e.g. Europe/London)"
                ) from None
        return value

    @field_validator("day_start")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
            if match is None:
                raise ValueError(f"expected a time of day HH:MM, e.g. 06:00, got {value!r}")
        return value


#: `[agent_targets]`'s states, by the word their keys begin with.
AGENT_STATES = ("pause", "wrap_up", "ringing")


class AgentTargetsSection(Section):
    """`[agent_targets]`: how long an agent may stay paused, in wrap-up or ringing before
    the agents panel warns (`!`) and alerts (`!!`); the header counts pauses past alert."""

    pause_warn_s: Seconds | None = None
    pause_alert_s: Seconds | None = None
    wrap_up_warn_s: Seconds | None = None
    wrap_up_alert_s: Seconds | None = None
    ringing_warn_s: Seconds | None = None
    ringing_alert_s: Seconds | None = None

    @field_validator(
        *(f"{s}_{level}_s" for s in AGENT_STATES for level in ("warn", "alert")), mode="before"
    )
    @classmethod
    def _number(cls, value: object) -> object:
        return _as_float(value)

    def thresholds(self) -> AgentThresholds:
        """The agents panel's levels: the file's, callboard's defaults for the rest."""
        defaults = AgentThresholds()
        return AgentThresholds(
            pause_s=self.pause_warn_s or defaults.pause_s,
            wrap_up_s=self.wrap_up_warn_s or defaults.wrap_up_s,
            ringing_s=self.ringing_warn_s or defaults.ringing_s,
            pause_alert_s=self.pause_alert_s,
            wrap_up_alert_s=self.wrap_up_alert_s,
            ringing_alert_s=self.ringing_alert_s,
        )

    def misordered(self) -> list[tuple[str, str]]:
        """(key, why) for each alert level not above its warning level."""
        levels = self.thresholds()
        problems = []
        for state, agent_state in zip(
            AGENT_STATES, (AgentState.PAUSED, AgentState.WRAP_UP, AgentState.RINGING), strict=True
        ):
            warn, alert = levels.limit(agent_state), levels.alert_limit(agent_state)
            if warn is not None and alert is not None and alert <= warn:
                problems.append((f"{state}_alert_s", f"must be above {state}_warn_s ({warn:g} s)"))
        return problems


class RuleSection(Section):
    """One `[[alerts.rules]]`: exactly one of `above` and `below`."""

    name: str = Field(min_length=1)
    metric: Metric
    above: float | None = None
    below: float | None = None
    queue: str | None = None
    for_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    clear_for_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @field_validator("metric", mode="before")
    @classmethod
    def _metric(cls, value: object) -> object:
        if isinstance(value, str) and value in {metric.value for metric in Metric}:
            return Metric(value)
        raise ValueError("must be one of " + ", ".join(m.value for m in Metric))

    @field_validator("above", "below", "for_s", "clear_for_s", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        return _as_float(value)

    @model_validator(mode="after")
    def _one_side(self) -> RuleSection:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' and 'below'")
        return self

    def rule(self) -> AlertRule:
        """The rule as the pure alert watch takes it."""
        return AlertRule(
            self.name, self.metric, self.above, self.below, self.queue, self.for_s, self.clear_for_s
        )


class WebhookSection(Section):
    """`[alerts.webhook]`: where the hub POSTs each raised and cleared alert."""

    url: str
    secret: str | None = Field(default=None, min_length=1)
    timeout_s: Seconds = 5.0

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        return _as_float(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if re.match(r"https?://[^\s/?#]+", value) is None or any(c.isspace() for c in value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value


class AlertsSection(Section):
    """`[alerts]`: the rules, how the board tells them, and the hub's webhook."""

    bell: bool = False
    desktop: bool = False
    rules: list[RuleSection] = Field(default_factory=list)
    webhook: WebhookSection | None = None

    def alert_rules(self) -> tuple[AlertRule, ...]:
        """Every rule for the alert watch."""
        return tuple(section.rule() for section in self.rules)


class Config(Section):
    """The whole file; every section may be left out."""

    queues: dict[str, QueueSection] = Field(default_factory=dict)
    agents: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    agent_targets: AgentTargetsSection = Field(default_factory=AgentTargetsSection)
    rules: RulesSection = Field(default_factory=RulesSection)
    board: BoardSection = Field(default_factory=BoardSection)
    day: DaySection = Field(default_factory=DaySection)
    alerts: AlertsSection = Field(default_factory=AlertsSection)

    def misplaced(self) -> list[tuple[tuple[str, ...], str]]:
        """Keys set where they mean nothing (refused, not ignored): (key path, why)."""
        problems: list[tuple[tuple[str, ...], str]] = [
            (("agent_targets", key), why) for key, why in self.agent_targets.misordered()
        ]
        for name, section in self.queues.items():
            if name == "*" and section.label is not None:
                problems.append(
                    (("queues", name, "label"), "a label names one queue, not every queue")
                )
            if name != "*" and section.short_abandon_s is not None:
                problems.append(
                    (
                        ("queues", name, "short_abandon_s"),
                        'set it in [queues."*"] only (the day\'s figures use one value)',
                    )
                )
        return problems

    def queue(self, name: str) -> QueueTargets:
        """A queue's targets: its own table, then `[queues."*"]`, then callboard's defaults.

        On a board of several sites a queue is `site/queue`: its own table is
        `[queues."site/queue"]`, over the plain queue's `[queues.queue]` (every site's),
        key by key, the more specific winning; the plain table's label is shown with
        the site (`site/Label`). docs/kpi.md, "Several sites".
        """
        own = self.queues.get(name)
        parts = split_label(name)
        shared = None if parts is None else self.queues.get(parts[1])
        if parts is None or shared is None:
            return QueueTargets.of(own, self.queues.get("*"))
        targets = QueueTargets.of(own, self.queues.get("*"), shared)
        if (own is None or own.label is None) and shared.label is not None:
            targets = targets.model_copy(update={"label": label(parts[0], shared.label)})
        return targets


class QueueTargets(BaseModel):
    """A queue's settings with every default filled in."""

    model_config = ConfigDict(frozen=True)

    label: str | None = None
    hidden: bool = False
    sl_threshold_s: float = SERVICE_LEVEL_S
    sl_target_pct: float = SL_TARGET_PCT
    short_abandon_s: float = SHORT_ABANDON_S
    wait_warn_s: float = WAIT_WARN_S
    wait_alert_s: float = WAIT_ALERT_S
    abandon_warn_pct: float = ABANDON_WARN_PCT

    @classmethod
    def of(
        cls,
        own: QueueSection | None,
        defaults: QueueSection | None,
        shared: QueueSection | None = None,
    ) -> QueueTargets:
        """Merge a queue's table over `shared` (a site's queue: the plain queue's
        table) over the `"*"` table over the built-in defaults."""
        values: dict[str, object] = {}
        for section in (defaults, shared, own):
            if section is not None:
                values.update(section.model_dump(exclude_none=True))
        if own is None or own.label is None:
            values.pop("label", None)  # a label names one queue, never every queue
        return cls.model_validate(values)


def _as_float(value: object) -> object:
    """An int from the file as a float (TOML writes 20 for 20.0); anything else as given."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
