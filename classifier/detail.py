"""Human one-line explanations of verdicts ("rang Ana (no answer); hung up in queue")."""

from __future__ import annotations

from classifier.call import Call, Phase, RingResult
from classifier.schema import Direction, EndedBy, VoicemailVia


def duration(seconds: float) -> str:
    """Compact duration for wallboards: 45s, 2m10s, 1h02m."""
    total = round(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _attempts(call: Call) -> str:
    parts = [
        f"{a.agent} ({a.result.value})"
        for a in call.attempts
        if a.result is not RingResult.ANSWERED
    ]
    return "rang " + ", ".join(parts) if parts else ""


def _where(call: Call) -> str:
    phase = call.phase_at_end
    if phase in (Phase.QUEUED, Phase.RINGING) and call.queue:
        if phase is Phase.RINGING and call.attempts:
            return f"while ringing {call.attempts[-1].agent}"
        return f"in queue {call.queue}"
    if phase is Phase.CONNECTING and call.direction is Direction.OUTBOUND:
        return "while dialling"
    return {
        Phase.CONNECTING: "before the call flow began",
        Phase.WELCOME: "in the welcome greeting",
        Phase.IVR: "in the IVR" + (f" ({call.menu})" if call.menu else ""),
        Phase.AVAILABLE_AGENTS: "in the available-agents greeting",
        Phase.QUEUED: "in the queue",
        Phase.RINGING: "while an agent was ringing",
        Phase.TALKING: "while talking",
        Phase.VOICEMAIL_GREETING: "in the voicemail greeting (before the beep)",
        Phase.VOICEMAIL_RECORDING: "while recording a voicemail",
        Phase.TRANSFERRING: "on transfer"
        + (f" to {call.transferred_to}" if call.transferred_to else ""),
        Phase.ENDED: "after the end",
    }[phase]


def _elapsed(call: Call, wait: float) -> float:
    end = call.ended
    assert end is not None
    if call.phase_at_end in (Phase.QUEUED, Phase.RINGING):
        return wait
    return (end.ts - call.started_at).total_seconds()


def _ending(call: Call, wait: float) -> str:
    end = call.ended
    assert end is not None
    cause = f" ({end.cause})" if end.cause else ""
    after = f" after {duration(_elapsed(call, wait))}"
    if end.by is EndedBy.CALLER:
        return f"hung up {_where(call)}{after}"
    who = "the system" if end.by is EndedBy.SYSTEM else "the agent"
    return f"ended by {who}{cause} {_where(call)}{after}"


def resync_note(call: Call) -> str:
    """What a call learned from a re-sync leaves unknown (its detail line and flags):
    'joined from a re-sync at 10:02:03: earlier steps unknown', and whether its wait is
    counted from the re-sync (the PBX did not say how long it had waited)."""
    at = call.resync_at
    assert at is not None
    note = f"joined from a re-sync at {at:%H:%M:%S}: earlier steps unknown"
    if call.wait_from_resync:
        note += "; wait counted from the re-sync"
    return note


def describe(
    call: Call, reason: str, *, wait: float | None = None, talk: float | None = None
) -> str:
    """The detail line for a finished call decided by the event rules.

    `wait` and `talk` are the call's `wait_until` and `talk_until` its end, when the
    caller has them already (`classify` does); they are computed here otherwise.
    """
    end = call.ended
    assert end is not None
    if wait is None:
        wait = call.wait_until(end.ts)
    rung = _attempts(call) if call.attempts else ""
    if call.answered_at is not None:
        if talk is None:
            talk = call.talk_until(end.ts)
        parts = [rung] if rung else []
        queue = f" in {call.queue}" if call.queue else ""
        parts.append(f"answered by {call.agent or '?'} after {duration(wait)}{queue}")
        parts.append(f"talked {duration(talk)}")
        if call.transferred_to:
            parts.append(f"transferred to {call.transferred_to}")
        return "; ".join(parts)
    if reason == "voicemail_left":
        origin = (
            "sent straight to voicemail"
            if call.voicemail_via is VoicemailVia.DIRECT
            else f"sent to voicemail from queue {call.queue or '?'}"
        )
        recorded = duration((end.ts - (call.beep_at or end.ts)).total_seconds())
        return "; ".join(p for p in (rung, origin, f"left a {recorded} message") if p)
    if reason == "outbound_not_connected":
        return f"outbound to {call.callee or '?'} never answered; " + _ending(call, wait)
    prefix = "after hours; " if call.after_hours else ""
    return prefix + "; ".join(p for p in (rung, _ending(call, wait)) if p)
