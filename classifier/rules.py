"""Classification rules, written as data in the order the seed documents give them.

Two sources of truth, both in `shared/seeds/`:

* seed 000 ("What is the difference between a missed call and an abandoned
  call?") defines missed and abandoned for calls we can follow event by event;
* seed 003 (Exotel "Call Status") gives three tables of leg1/leg2/overall
  statuses, for calls whose end carries those statuses.

`docs/classification.md` explains each rule and the choices we made where the
seeds are silent. Every rule here has a test named after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from classifier.call import Call, Phase
from classifier.detail import describe, resync_note
from classifier.schema import Direction, EndedBy, LegStatus, VoicemailVia
from classifier.verdict import Judgement, Outcome, Verdict


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the seed, as a predicate over the facts of a finished call."""

    key: str
    reason: str
    outcome: Outcome
    seed: str
    says: str
    applies: Callable[[Call], bool]


def _by_caller(call: Call) -> bool:
    return call.ended is not None and call.ended.by is EndedBy.CALLER


def _hung_up_in(*phases: Phase) -> Callable[[Call], bool]:
    def check(call: Call) -> bool:
        return _by_caller(call) and call.phase_at_end in phases

    return check


#: The front of a call flow: before any queue, agent or voicemail.
_FRONT = (Phase.CONNECTING, Phase.WELCOME, Phase.IVR)

SEED_000 = "seeds/000_3dfd545b68fcfe7f.txt"
SEED_003 = "seeds/003_b2584b48e0e49ccf.txt"

#: Event rules in precedence order: the first that applies decides.
EVENT_RULES: tuple[Rule, ...] = (
    Rule(
        "rule 1",
        "answered",
        Outcome.COMPLETED,
        f"{SEED_000}, Missed calls, first bullet and its note; forum question 1",
        "A call any agent answered is completed, even if agents before rejected it "
        "or let it ring: once connected to an agent it can no longer be missed.",
        lambda c: c.answered,
    ),
    Rule(
        "outbound",
        "outbound_not_connected",
        Outcome.NOT_CONNECTED,
        f"{SEED_003}, outbound tables (our reading for calls without leg statuses)",
        "An outbound attempt that never reached an answer never connected the two "
        "parties; missed and abandoned describe inbound callers only.",
        lambda c: c.direction is Direction.OUTBOUND,
    ),
    Rule(
        "rule 2",
        "voicemail_left",
        Outcome.VOICEMAIL,
        f"{SEED_003}, status 'voicemail'; {SEED_000}, the voicemail bullets "
        "(hanging up before the beep is what makes those calls missed or abandoned)",
        "The caller heard the beep and so could leave a message: its own outcome.",
        lambda c: c.beep_at is not None,
    ),
    Rule(
        "rule 3",
        "agent_not_answered",
        Outcome.MISSED,
        f"{SEED_000}, Missed calls, first bullet",
        "At least one agent was rung and nobody answered (no answer or rejected), "
        "wherever the caller then hung up.",
        lambda c: c.rang_an_agent,
    ),
    Rule(
        "rule 4",
        "available_agents_greeting_hangup",
        Outcome.MISSED,
        f"{SEED_000}, Missed calls, third bullet",
        "The caller hung up while the available-agents greeting played.",
        _hung_up_in(Phase.AVAILABLE_AGENTS),
    ),
    Rule(
        "rule 5",
        "voicemail_greeting_hangup",
        Outcome.MISSED,
        f"{SEED_000}, Missed calls, second bullet",
        "Sent straight to voicemail (e.g. out of hours), the caller hung up during "
        "the voicemail greeting, before the beep.",
        lambda c: _by_caller(c) and c.voicemail_via is VoicemailVia.DIRECT,
    ),
    Rule(
        "rule 6",
        "voicemail_from_queue_hangup",
        Outcome.ABANDONED,
        f"{SEED_000}, Abandoned calls, third bullet",
        "Sent to voicemail from the waiting queue without being presented to an "
        "agent, the caller hung up before leaving a message.",
        lambda c: _by_caller(c) and c.voicemail_via is VoicemailVia.QUEUE,
    ),
    Rule(
        "rule 7",
        "after_hours_hangup",
        Outcome.ABANDONED,
        f"{SEED_000}, Abandoned calls, fourth bullet",
        "Out of business hours, the caller hung up in the welcome greeting or the IVR.",
        lambda c: c.after_hours and _hung_up_in(*_FRONT)(c),
    ),
    Rule(
        "rule 8",
        "queue_hangup",
        Outcome.ABANDONED,
        f"{SEED_000}, Abandoned calls, first and second bullets",
        "The caller hung up while waiting in the queue, never presented to an agent.",
        _hung_up_in(Phase.QUEUED),
    ),
    Rule(
        "rule 9",
        "ivr_hangup",
        Outcome.ABANDONED,
        f"{SEED_000}, Abandoned calls, first bullet",
        "The caller hung up in the IVR or the welcome greeting, before reaching agents.",
        _hung_up_in(*_FRONT),
    ),
    Rule(
        "rule 10",
        "no_agent_available",
        Outcome.MISSED,
        f"{SEED_000}, forum question 2 (calls not picked up because no agents were available)",
        "The system ended the wait in the queue (no agent logged in, queue timeout) "
        "before any agent was presented.",
        lambda c: not _by_caller(c) and c.phase_at_end is Phase.QUEUED,
    ),
    Rule(
        "fallback 1",
        "system_ended",
        Outcome.MISSED,
        f"{SEED_000}, Abandoned calls, first bullet (abandoned needs the customer "
        "to disconnect; our choice for the rest)",
        "The centre, not the caller, ended the call somewhere else before an agent "
        "answered (an IVR timeout, a failed transfer): the caller did not give up.",
        lambda c: not _by_caller(c),
    ),
    Rule(
        "fallback 2",
        "hangup_before_agent",
        Outcome.ABANDONED,
        f"{SEED_000}, Abandoned calls, first bullet",
        "The caller hung up somewhere no rule above names (for example on an "
        "unanswered transfer) without reaching an agent.",
        lambda c: True,
    ),
)


class HangupWhileRinging(StrEnum):
    """`[rules] hangup_while_ringing`: what a caller hanging up while an agent rings is.

    Seed 000's first missed bullet makes it missed (rule 3: an agent was rung and
    nobody answered); the same vendor's later help pages count it abandoned (the
    caller gave up first). A centre picks its own; the default is the seed's.
    """

    MISSED = "missed"
    ABANDONED = "abandoned"


#: The rule `hangup_while_ringing = "abandoned"` adds, just before rule 3: it takes the
#: calls rule 3 would call missed whose caller hung up while an agent's phone rang.
RINGING_HANGUP = Rule(
    "rules.hangup_while_ringing",
    "ringing_hangup",
    Outcome.ABANDONED,
    'callboard.toml [rules] hangup_while_ringing = "abandoned" (the centre\'s choice '
    f"over {SEED_000}, Missed calls, first bullet)",
    "The caller hung up while an agent's phone was ringing: this centre counts the "
    "caller giving up first as abandoned.",
    _hung_up_in(Phase.RINGING),
)

#: `EVENT_RULES` with `RINGING_HANGUP` before rule 3.
EVENT_RULES_RINGING_ABANDONED: tuple[Rule, ...] = tuple(
    rule
    for existing in EVENT_RULES
    for rule in ((RINGING_HANGUP, existing) if existing.key == "rule 3" else (existing,))
)


def event_rules(
    hangup_while_ringing: HangupWhileRinging = HangupWhileRinging.MISSED,
) -> tuple[Rule, ...]:
    """The event rules in precedence order for a centre's `[rules]` choices."""
    if hangup_while_ringing is HangupWhileRinging.ABANDONED:
        return EVENT_RULES_RINGING_ABANDONED
    return EVENT_RULES


# --- Exotel (seed 003) -----------------------------------------------------------

#: Incoming calls: leg2 (the agent's leg) alone decides, per the seed's note on
#: inbound calls. Keyed by leg2 status (None is Exotel's "n/a (empty)"). A leg2
#: that rang out is the same fact rule 3 describes, hence the shared reason code.
EXOTEL_INCOMING: dict[LegStatus | None, tuple[Outcome, str]] = {
    LegStatus.COMPLETED: (Outcome.COMPLETED, "answered"),
    LegStatus.NO_ANSWER: (Outcome.MISSED, "agent_not_answered"),
    LegStatus.BUSY: (Outcome.MISSED, "agent_busy"),
    LegStatus.FAILED: (Outcome.MISSED, "agent_unreachable"),
    LegStatus.MISSED_CALL: (Outcome.MISSED, "all_agents_busy"),
    LegStatus.CANCELED: (Outcome.ABANDONED, "caller_canceled"),
    None: (Outcome.ABANDONED, "no_second_leg"),
}

#: What each status means, in our words, for the one-line detail.
EXOTEL_MEANING: dict[LegStatus | None, str] = {
    LegStatus.COMPLETED: "answered",
    LegStatus.NO_ANSWER: "not answered before the timeout",
    LegStatus.BUSY: "busy",
    LegStatus.FAILED: "could not be connected",
    LegStatus.CANCELED: "hung up by the other side while it was queued or ringing",
    LegStatus.MISSED_CALL: "all agents busy or switched off",
    None: "never dialled",
}


def _leg_code(leg: int, status: LegStatus | None) -> str:
    name = "empty" if status is None else status.value.replace("-", "_")
    return f"leg{leg}_{name}"


def exotel_verdict(call: Call) -> tuple[Outcome, str, str, str] | None:
    """Outcome from Exotel statuses, or None when the event rules must decide.

    Returns (outcome, reason, rule, detail).
    """
    end = call.ended
    assert end is not None
    leg1, leg2, status = end.leg1_status, end.leg2_status, end.status
    if call.direction is Direction.INBOUND:
        if leg2 is None and status is LegStatus.MISSED_CALL:
            outcome, reason = EXOTEL_INCOMING[LegStatus.MISSED_CALL]
            meaning = EXOTEL_MEANING[LegStatus.MISSED_CALL]
            return outcome, reason, "exotel incoming", f"Exotel: missed call ({meaning})"
        outcome, reason = EXOTEL_INCOMING[leg2]
        if outcome is Outcome.ABANDONED and call.reached_voicemail:
            # Exotel reports calls that reach a voicemail applet as voicemail; whether
            # a message was left is what the voicemail rules of seed 000 decide.
            return None
        leg2_text = "empty" if leg2 is None else leg2.value
        return (
            outcome,
            reason,
            "exotel incoming",
            f"Exotel incoming: leg2 {leg2_text} ({EXOTEL_MEANING[leg2]})",
        )
    flow = call.flow.value.replace("_", " ")
    for leg, value in ((1, leg1), (2, leg2)):
        if value is not LegStatus.COMPLETED:
            text = "empty" if value is None else value.value
            return (
                Outcome.NOT_CONNECTED,
                _leg_code(leg, value),
                f"exotel outbound ({flow})",
                f"Exotel outbound, {flow}: leg{leg} {text} ({EXOTEL_MEANING[value]})",
            )
    return (
        Outcome.COMPLETED,
        "answered",
        f"exotel outbound ({flow})",
        f"Exotel outbound, {flow}: both legs completed",
    )


def first_rule(call: Call, rules: tuple[Rule, ...] = EVENT_RULES) -> Rule:
    """The event rule of `rules` (`event_rules(...)`) that decides this finished call."""
    for rule in rules:
        if rule.applies(call):
            return rule
    raise AssertionError("the last rule applies to every call")  # pragma: no cover


def classify(call: Call, rules: tuple[Rule, ...] = EVENT_RULES) -> Verdict:
    """The verdict on a finished call, by `rules` (`event_rules(...)`) where events decide.

    The rules are passed in, not read from a setting, so the domain stays pure and the
    default path costs what it did (one more argument, no lookup).
    """
    end = call.ended
    assert end is not None, "classify() takes finished calls"
    now = end.ts
    # Both durations once: the detail line and the record need the same two numbers,
    # and each is a subtraction of times from two parses, which is not cheap.
    wait = call.wait_until(now)
    talk = call.talk_until(now)
    outcome, reason, rule_key, detail = _decision(call, rules)
    if detail is None:
        detail = describe(call, reason, wait=wait, talk=talk)
    if call.resync_at is not None:
        detail = f"{detail}; {resync_note(call)}"
    return _verdict(call, now, outcome, reason, detail, rule_key, wait, talk)


def judge(call: Call, rules: tuple[Rule, ...] = EVENT_RULES) -> Judgement:
    """What a finished call counts as in the day's figures: `classify` without its words.

    The same decision as `classify` (one `_decision` for both) and the same rounded
    durations, so a tally of judgements is a tally of verdicts; what is left out is
    what only a record shows (the detail line, the agents rung, the start time as
    text), which is most of a verdict's cost. `callboard report` counts these.
    """
    end = call.ended
    assert end is not None, "judge() takes finished calls"
    now = end.ts
    outcome, reason, _, _ = _decision(call, rules)
    return Judgement(
        outcome,
        reason,
        call.direction.value,
        call.queue,
        round(call.wait_until(now), 3),
        round(call.talk_until(now), 3),
        now,
    )


def _decision(call: Call, rules: tuple[Rule, ...]) -> tuple[Outcome, str, str, str | None]:
    """(outcome, reason, rule, detail) of a finished call; detail None when a rule decided.

    Exotel's leg statuses decide when the end carries them and they are conclusive
    (seed 003); otherwise the first event rule that applies (seed 000). The detail
    line of a rule's decision is left to the caller, who may not need it.
    """
    end = call.ended
    assert end is not None
    decided = exotel_verdict(call) if end.has_leg_statuses else None
    if decided is not None:
        return decided
    rule = first_rule(call, rules)
    return rule.outcome, rule.reason, rule.key, None


def open_record(call: Call) -> Verdict:
    """A record for a call still in progress (`classify --include-open`)."""
    now = call.last_ts or call.started_at
    return _verdict(
        call,
        now,
        None,
        None,
        f"still open: {call.phase.value}",
        "",
        call.wait_until(now),
        call.talk_until(now),
    )


def _verdict(
    call: Call,
    now: datetime,
    outcome: Outcome | None,
    reason: str | None,
    detail: str,
    rule: str,
    wait: float,
    talk: float,
) -> Verdict:
    """The record of a call as of `now` (its end, once it has ended), given its durations."""
    ended = call.ended
    # Positional, in field order: this runs once per call of the day.
    return Verdict(
        call.call_id,
        outcome,
        reason,
        detail,
        call.direction.value,
        call.queue,
        tuple(call.agents_rung),
        round(wait, 3),
        round(talk, 3),
        call.started_at.isoformat(),
        None if ended is None else ended.ts.isoformat(),
        rule,
        tuple(call.flags) if call.resync_at is None else (*call.flags, resync_note(call)),
        None if call.resync_at is None else call.resync_at.isoformat(),
    )


ALL_REASONS: dict[str, Outcome] = {
    **{rule.reason: rule.outcome for rule in EVENT_RULES_RINGING_ABANDONED},
    **{reason: outcome for outcome, reason in EXOTEL_INCOMING.values()},
    **{
        _leg_code(leg, status): Outcome.NOT_CONNECTED
        for leg in (1, 2)
        for status in (*LegStatus, None)
        if status is not LegStatus.COMPLETED
    },
}
