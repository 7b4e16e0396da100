"""A call in words: its state, each of its events, and its story.

The story is what Enter shows on a row: every event of the call with its time,
then why the classifier decided as it did (the rules passed over, the one that
applied, its seed passage). The board keeps each call's events as these lines,
not as event objects (see `monitor.board.Board`), so the words are made once, as
the event arrives. No Textual here: the story screen only lays the lines out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from classifier.call import Call, Phase
from classifier.detail import duration
from classifier.rules import EVENT_RULES, Rule
from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    AgentStatus,
    CallEnded,
    CallStarted,
    CallTransferred,
    Event,
    GreetingStarted,
    IvrEntered,
    QueueEntered,
    VoicemailBeep,
    VoicemailStarted,
)
from classifier.verdict import Outcome, Verdict


def display_state(call: Call, show: Callable[[str], str] | None = None) -> str:
    """A call's state in words (the active table's state column, an open call's story).

    'ringing Ana', 'talking to Ben', 'queued', ...; `show` gives an agent's display
    name (`monitor.agent_names.AgentNames.show`).
    """
    agent = call.agent if call.agent is None or show is None else show(call.agent)
    match call.phase:
        case Phase.RINGING:
            return f"ringing {agent}" if agent else "ringing"
        case Phase.TALKING:
            return f"talking to {agent}" if agent else "talking"
        case Phase.TRANSFERRING:
            return f"on transfer to {call.transferred_to}" if call.transferred_to else "on transfer"
        case _:
            return call.phase.value


class LineKind(StrEnum):
    """What a story line tells; the story screen styles each kind (`story--KIND`)."""

    EVENT = "event"
    #: The rule that decided.
    RULE = "rule"
    #: A rule that did not apply, and why.
    SKIP = "skip"
    #: The summary and warnings.
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class StoryLine:
    """One line of a call's timeline."""

    at: datetime | None
    text: str
    kind: LineKind = LineKind.EVENT


#: One event of a call as its story tells it: when, and what happened in words. A
#: plain tuple of a datetime and a str, which the garbage collector stops tracking:
#: a board holds tens of thousands of these.
EventLine = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class Story:
    """A call's timeline: every event, then the classifier's reasoning."""

    call_id: str
    title: str
    lines: tuple[StoryLine, ...]


def describe_event(event: Event) -> str:
    """One event in words, for the call's story."""
    match event:
        case CallStarted():
            who = event.from_ or "unknown caller"
            hours = ", after hours" if event.after_hours else ""
            flow = "" if event.flow.value == "incoming" else f" ({event.flow.value})"
            text = f"{event.direction.value} call from {who} to {event.to or '?'}{flow}{hours}"
            if event.resync_at is not None:
                # The PBX listed it when the link (re)connected: what came before is lost.
                return (
                    f"joined from a re-sync at {event.resync_at:%H:%M:%S}:"
                    f" earlier steps unknown; {text}"
                )
            return text
        case IvrEntered():
            return "entered the IVR" + (f" menu {event.menu}" if event.menu else "")
        case GreetingStarted():
            return f"{event.greeting.value.replace('_', '-')} greeting started"
        case QueueEntered():
            return f"entered queue {event.queue}"
        case AgentRinging():
            return f"ringing agent {event.agent}"
        case AgentNoAnswer():
            return f"{event.agent} did not answer"
        case AgentRejected():
            return f"{event.agent} rejected the call"
        case AgentAnswered():
            return f"{event.agent} answered"
        case VoicemailStarted():
            return f"voicemail greeting ({event.via.value})"
        case VoicemailBeep():
            return "voicemail beep: recording"
        case CallTransferred():
            return "transferred" + (f" to {event.to}" if event.to else "")
        case CallEnded():
            parts = [f"ended by the {event.by.value}"]
            if event.cause:
                parts.append(f"cause {event.cause}")
            statuses = [
                f"{name.replace('_status', '')} {value.value if value is not None else 'empty'}"
                for name, value in (
                    ("status", event.status),
                    ("leg1_status", event.leg1_status),
                    ("leg2_status", event.leg2_status),
                )
                if name in event.model_fields_set
            ]
            if statuses:
                parts.append("Exotel " + ", ".join(statuses))
            return "; ".join(parts)
        case AgentStatus():
            return f"{event.agent} is {event.status.value}"
    return event.type  # pragma: no cover - every schema type is matched above


def _rule_lines(call: Call, verdict: Verdict) -> list[StoryLine]:
    """Why the classifier decided as it did: the rules passed over, then the one that applied."""
    lines: list[StoryLine] = []
    deciding: Rule | None = next((r for r in EVENT_RULES if r.key == verdict.rule), None)
    if deciding is None:
        # A vendor-status verdict (seed 003): the statuses decided, not the event rules.
        lines.append(StoryLine(None, f"✓ {verdict.rule} decides: {verdict.detail}", LineKind.RULE))
        return lines
    for rule in EVENT_RULES:
        if rule is deciding:
            break
        lines.append(StoryLine(None, f"✗ {rule.key} ({rule.reason}) does not apply", LineKind.SKIP))
    lines.append(
        StoryLine(
            None, f"✓ {deciding.key} ({deciding.reason}) applies: {deciding.says}", LineKind.RULE
        )
    )
    lines.append(StoryLine(None, f"source: {deciding.seed}", LineKind.NOTE))
    return lines


def event_line(event: Event) -> EventLine:
    """One event as a line of its call's story."""
    return (event.ts, describe_event(event))


def story_of(
    call: Call,
    verdict: Verdict | None,
    now: datetime,
    timeline: Sequence[EventLine] | None = None,
    *,
    titles: Mapping[Outcome, str],
) -> Story:
    """The timeline of one call, open or finished.

    `timeline`: the call's events already in words (`event_line`); by default they
    are read from `call.events`. `titles`: the outcomes' names as the board shows
    them (`monitor.board.PANEL_TITLES`; an argument, as the board imports this module).
    """
    if timeline is None:
        timeline = [event_line(e) for e in call.events]
    lines = [StoryLine(at, text) for at, text in timeline]
    for flag in call.flags:
        lines.append(StoryLine(None, f"warning: {flag}", LineKind.NOTE))
    if verdict is None:
        total = duration((now - call.started_at).total_seconds())
        lines.append(
            StoryLine(
                None, f"still in progress: {display_state(call)}, {total} so far", LineKind.NOTE
            )
        )
        title = f"Call {call.call_id}: in progress"
    else:
        outcome = titles[verdict.outcome] if verdict.outcome else "open"
        lines.append(StoryLine(None, f"outcome: {outcome} ({verdict.reason})", LineKind.NOTE))
        lines.append(StoryLine(None, f"reason: {verdict.detail}", LineKind.NOTE))
        lines.extend(_rule_lines(call, verdict))
        title = f"Call {call.call_id}: {outcome.lower()}"
    return Story(call.call_id, title, tuple(lines))
