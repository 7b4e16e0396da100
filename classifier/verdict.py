"""The record a finished call leaves behind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    COMPLETED = "completed"
    MISSED = "missed"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    NOT_CONNECTED = "not_connected"


#: Column order of `callboard classify` output (JSON keys and CSV header).
RECORD_FIELDS: tuple[str, ...] = (
    "call_id",
    "outcome",
    "reason",
    "detail",
    "direction",
    "queue",
    "agents_rung",
    "wait_s",
    "talk_s",
    "started_at",
    "ended_at",
    "flags",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one call, with a stable reason code and a one-line explanation."""

    call_id: str
    outcome: Outcome | None
    reason: str | None
    detail: str
    direction: str
    queue: str | None
    agents_rung: tuple[str, ...]
    wait_s: float
    talk_s: float
    started_at: str
    ended_at: str | None
    #: Which rule decided, e.g. "rule 3" or "exotel incoming"; for the call's story.
    rule: str = ""
    flags: tuple[str, ...] = field(default=())
    #: When the call was learned from a re-sync of a live source (ISO 8601, its
    #: `call.started`'s `resync_at`), else None: the panels mark its row `↻`. Its words
    #: are in `flags` and `detail`; not a `classify` field of its own.
    resync_at: str | None = None

    def record(self) -> dict[str, Any]:
        """The `classify` output object (stable keys, JSON-ready values)."""
        return {
            "call_id": self.call_id,
            "outcome": None if self.outcome is None else self.outcome.value,
            "reason": self.reason,
            "detail": self.detail,
            "direction": self.direction,
            "queue": self.queue,
            "agents_rung": list(self.agents_rung),
            "wait_s": self.wait_s,
            "talk_s": self.talk_s,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "flags": list(self.flags),
        }

    def record_json(self) -> str:
        """`record()` as one JSON text, exactly as `json.dumps(record(), ensure_ascii=False)`.

        `classify` writes one per call of the day; `tests/test_verdict.py` holds it to
        json.dumps on generated records.
        """
        return _RECORD_ENCODER.encode(self.record())


#: json.dumps' settings for a record, in one encoder made once: json.dumps with
#: `ensure_ascii=False` builds an encoder anew on every call. Records hold no
#: containers that could refer back to themselves, so the check for circular
#: references is left out. (json.encoder's undocumented C encoder, kept across calls,
#: saved 0.8 µs more per record: 0.1 µs per event of figure 1, within its noise.)
_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the day's counts need of a finished call (`classifier.rules.judge`).

    A `Verdict`'s outcome, reason, direction, queue and durations (rounded the same
    way), and its end as a time rather than text; no detail line or agents. Anything
    `kpi.Tally` counts, a judgement counts the same as the call's verdict.
    """

    outcome: Outcome
    reason: str
    direction: str
    queue: str | None
    wait_s: float
    talk_s: float
    ended: datetime
