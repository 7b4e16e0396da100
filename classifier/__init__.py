"""callboard's pure domain: the event schema, the per-call state machine, the rules.

No I/O, no asyncio, no Textual: everything here is a function of the events it
is given, so every consumer (CLI, hub, wallboard) reaches the same verdicts.
"""

from classifier.call import Call, Phase
from classifier.rules import ALL_REASONS, EVENT_RULES, classify
from classifier.schema import Event, EventError, event_from_dict, parse_event
from classifier.tracker import Applied, CallTracker, Result
from classifier.verdict import Outcome, Verdict

__all__ = [
    "ALL_REASONS",
    "EVENT_RULES",
    "Applied",
    "Call",
    "CallTracker",
    "Event",
    "EventError",
    "Outcome",
    "Phase",
    "Result",
    "Verdict",
    "classify",
    "event_from_dict",
    "parse_event",
]
