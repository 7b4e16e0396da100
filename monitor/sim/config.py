"""What the simulated contact centre looks like: sizes, rates, behaviour and presets.

Everything here is plain data. `SimConfig` says how big the centre is and how busy;
`Behaviour` holds the probabilities and durations of the call flow (one place to
tune realism). The presets are the configurations other parts of the project use:
`demo_config` for the live board, `heavy_config` for load benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from classifier.schema import MAX_CALL_ID, MAX_TEXT

#: The default first instant of a simulation: a Monday, with an offset, fixed so
#: that the same seed always gives the same bytes.
DEFAULT_START = datetime(2025, 3, 3, 8, 0, tzinfo=timezone(timedelta(hours=1)))

DEFAULT_QUEUES: tuple[str, ...] = ("sales", "support", "billing")

#: Relative arrival rate for each hour of the clock (0..23): a quiet night, a
#: morning peak, a dip at lunch and a smaller afternoon peak. Normalised against
#: the open hours at run time, so `calls_per_hour` is the mean while open.
DAILY_PROFILE: tuple[float, ...] = (
    0.03, 0.02, 0.02, 0.02, 0.03, 0.05, 0.10, 0.20,
    0.80, 1.20, 1.45, 1.35, 1.00, 0.95, 1.15, 1.10,
    1.00, 0.85, 0.65, 0.50, 0.30, 0.20, 0.12, 0.06,
)  # fmt: skip

PROFILES: tuple[str, ...] = ("daily", "flat")


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Probabilities (p_*) and durations (seconds) of callers, agents and the system."""

    # Front of the call flow.
    p_welcome: float = 0.75
    welcome_s: tuple[float, float] = (4.0, 9.0)
    p_ivr: float = 0.8
    ivr_s: tuple[float, float] = (6.0, 20.0)
    #: The caller never chooses: the IVR gives up and the system ends the call.
    p_ivr_timeout: float = 0.006
    #: IVR option "reception": a transfer to the front desk, outside the queues.
    p_ivr_reception: float = 0.015
    reception_answers: float = 0.6
    reception_ring_s: tuple[float, float] = (8.0, 40.0)
    #: IVR option "leave us a message" in business hours: straight to voicemail.
    p_ivr_voicemail: float = 0.015
    p_available_greeting: float = 0.5
    available_greeting_s: tuple[float, float] = (4.0, 8.0)
    # Callers.
    patience_mean_s: float = 240.0
    #: Callers who give up at once when told the centre is closed.
    p_after_hours_quit: float = 0.25
    #: Callers who will not talk to a machine: hang up in the voicemail greeting.
    p_voicemail_refuse: float = 0.25
    #: Callers who press the voicemail option while waiting (exponential delay).
    p_voicemail_choice: float = 0.06
    voicemail_choice_mean_s: float = 60.0
    voicemail_greeting_s: tuple[float, float] = (6.0, 14.0)
    message_s: tuple[float, float] = (5.0, 60.0)
    #: Messages cut by the system at the recording limit.
    p_message_limit: float = 0.05
    message_limit_s: float = 120.0
    # Queue.
    queue_timeout_s: float = 120.0
    #: Exotel's connect applet gives up sooner and reports a missed call.
    exotel_queue_timeout_s: float = 120.0
    p_timeout_to_voicemail: float = 0.6
    #: An agent who declined a call is not offered the same call again this soon.
    decline_cooldown_s: float = 60.0
    # Agents.
    ring_timeout_s: float = 15.0
    answer_s: tuple[float, float] = (2.0, 9.0)
    reject_s: tuple[float, float] = (1.0, 5.0)
    p_reject: float = 0.04
    p_no_answer: float = 0.07
    #: How many agents Exotel's connect applet dials before the flow gives up.
    exotel_dial_attempts: int = 1
    #: An agent's phone that cannot be reached (Exotel calls only: leg "failed").
    p_phone_failed: float = 0.03
    talk_median_s: float = 80.0
    talk_sigma: float = 0.7
    p_transfer: float = 0.04
    wrap_up_s: tuple[float, float] = (8.0, 35.0)
    p_agent_hangs_up: float = 0.4
    #: Two short breaks and a lunch per shift.
    planned_breaks: bool = True
    #: Extra pauses besides the planned breaks (training, meetings, admin).
    p_extra_pause: float = 0.25
    # Outbound.
    p_customer_answers: float = 0.65
    customer_answer_s: tuple[float, float] = (5.0, 25.0)
    dial_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulated centre. `hours=None` runs forever (the live demo)."""

    agents: int = 40
    queues: tuple[str, ...] = DEFAULT_QUEUES
    #: Calls (inbound and outbound) per hour, averaged over the open hours.
    calls_per_hour: float = 300.0
    hours: float | None = 1.0
    seed: int = 1
    start: datetime = DEFAULT_START
    #: Business hours, in hours of the clock; 0 and 24 mean open all day.
    opens: float = 8.0
    closes: float = 20.0
    profile: str = "daily"
    #: Relative traffic per queue (same order as `queues`); empty means 4:4:2:... .
    queue_weights: tuple[float, ...] = ()
    #: Share of all calls that are outbound (made only while open).
    outbound_share: float = 0.08
    #: Share of inbound calls that come through Exotel (leg statuses on call.ended).
    exotel_share: float = 0.1
    #: Share of outbound calls made through Exotel's two outbound flows.
    exotel_outbound_share: float = 0.6
    id_prefix: str = "sim-"
    #: Live mode only: seconds of simulated time sent at once when the feed starts,
    #: stamped in the past, so a board opens on a centre already at work.
    warmup_s: float = 0.0
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with this configuration, in words for the command line."""
        out: list[str] = []
        if self.agents < 1:
            out.append("agents must be at least 1")
        if not self.queues or any(not q or q != q.strip() for q in self.queues):
            out.append("queues must be a list of non-empty names")
        elif len(set(self.queues)) != len(self.queues):
            out.append("queue names must be distinct")
        elif max(len(q) for q in self.queues) > MAX_TEXT:
            out.append(f"queue names must be at most {MAX_TEXT} characters")
        if len(self.id_prefix) > MAX_CALL_ID - 20:
            out.append(f"the call id prefix must be at most {MAX_CALL_ID - 20} characters")
        if self.queue_weights and (
            len(self.queue_weights) != len(self.queues)
            or min(self.queue_weights) < 0
            or not sum(self.queue_weights) > 0
        ):
            out.append(
                f"queue weights: give one weight per queue ({len(self.queues)}), "
                "zero or more, not all zero"
            )
        if not self.calls_per_hour >= 0:
            out.append("calls per hour must be zero or more")
        if self.hours is not None and not self.hours > 0:
            out.append("hours must be more than zero")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            out.append("start needs a time zone offset")
        if not (0 <= self.opens <= 24 and 0 <= self.closes <= 24 and self.opens < self.closes):
            out.append("business hours need 0 <= opens < closes <= 24")
        if self.profile not in PROFILES:
            out.append(f"profile must be one of {', '.join(PROFILES)}")
        for name in ("outbound_share", "exotel_share", "exotel_outbound_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                out.append(f"{name.replace('_', ' ')} must be between 0 and 1")
        if self.warmup_s < 0:
            out.append("warm-up must be zero or more")
        return out

    @property
    def open_all_day(self) -> bool:
        """Whether the business hours span the whole day, so that no call is after hours."""
        return self.opens <= 0 and self.closes >= 24

    def weights(self) -> tuple[float, ...]:
        """Relative traffic per queue: the given weights, or the first two queues busiest."""
        if self.queue_weights:
            return self.queue_weights
        return tuple(4.0 if i < 2 else 2.0 for i in range(len(self.queues)))

    def hourly_profile(self) -> tuple[float, ...]:
        """Relative arrival rate of each hour of the clock, with mean 1 over the open hours."""
        if self.profile == "flat":
            return (1.0,) * 24
        open_hours = [h for h in range(24) if self.opens <= h < self.closes] or list(range(24))
        mean = sum(DAILY_PROFILE[h] for h in open_hours) / len(open_hours)
        return tuple(v / mean for v in DAILY_PROFILE)

    def with_(self, **changes: object) -> SimConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def demo_config(seed: int = 1) -> SimConfig:
    """The live demo: 12 agents, open all day, a busy hour already under way."""
    return SimConfig(
        agents=12,
        calls_per_hour=150.0,
        hours=None,
        seed=seed,
        start=DEFAULT_START.replace(hour=9, minute=30),
        opens=0.0,
        closes=24.0,
        profile="flat",
        warmup_s=900.0,
    )


def heavy_config(seed: int = 1, in_progress: int = 5000, agents: int | None = None) -> SimConfig:
    """Load for benchmarks: about `in_progress` calls under way at once, for hours on end.

    Little's law: calls in progress = arrival rate x time in the system. Nearly an
    hour of talk per call (with little spread, so the level settles fast), a tenth
    more arrivals than that to make up for the calls that end early, and a quarter
    more agents than calls: the centre settles at about `in_progress` simultaneous
    calls from an hour and a half in (the live warm-up), and stays there.

    With `agents` fewer than the calls (issue 16's floor: 2,000 agents, 5,000 calls),
    every agent talks and the rest of the calls wait in the queue: no queue timeout,
    no voicemail option, and arrivals that outrun the agents by as many callers as
    give up, so that the queue holds steady at `in_progress` less the agents
    (waiting = excess arrivals x mean patience, Little's law again).
    """
    behaviour = Behaviour(
        talk_median_s=3300.0,
        talk_sigma=0.3,
        p_transfer=0.0,
        planned_breaks=False,
        p_extra_pause=0.0,
        patience_mean_s=1200.0,
    )
    config = SimConfig(
        agents=int(in_progress * 1.25) + 10,
        calls_per_hour=in_progress * 1.1,
        hours=None,
        seed=seed,
        opens=0.0,
        closes=24.0,
        profile="flat",
        outbound_share=0.0,
        warmup_s=5400.0,
        behaviour=behaviour,
    )
    if agents is None or agents >= config.agents:
        return config
    # A call takes its agent for the talk (lognormal: mean median x e^(sigma^2/2)), the
    # wrap-up and the ring: about 3,480 s, so the agents serve agents / 3,480 calls a second.
    served = agents * 3600.0 / (3300.0 * math.exp(0.3**2 / 2) + 30.0)
    waiting = max(0, in_progress - agents)
    never = 10 * 24 * 3600.0
    return replace(
        config,
        agents=agents,
        calls_per_hour=served + waiting * 3600.0 / behaviour.patience_mean_s,
        behaviour=replace(
            behaviour,
            queue_timeout_s=never,
            exotel_queue_timeout_s=never,
            p_voicemail_choice=0.0,
        ),
    )


PRESETS = {"centre": None, "demo": demo_config, "heavy": heavy_config}
