"""The record a finished call leaves behind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import encode_basestring
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

        Encoded value by value because `classify` writes one per call of the day and the
        encoder's set-up per call cost more than the encoding; `tests/test_verdict.py`
        holds it to json.dumps on generated records.
        """
        fields = ", ".join(f"{encode_basestring(k)}: {_json(v)}" for k, v in self.record().items())
        return "{" + fields + "}"


#: The general encoder, for any value the fast cases below do not cover.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _json(value: object) -> str:
    """One record value as JSON, as `json.dumps(value, ensure_ascii=False)` writes it."""
    if type(value) is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if type(value) is float and value - value == 0:  # finite (NaN and infinities are not)
        return float.__repr__(value)
    if (type(value) is tuple or type(value) is list) and all(type(v) is str for v in value):
        return "[" + ", ".join(map(encode_basestring, value)) + "]"
    return _ENCODE(value)
