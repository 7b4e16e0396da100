"""Shared by the simulator tests: what no simulated centre can produce."""

from __future__ import annotations

#: Reason codes of `ALL_REASONS` that no real Exotel/Asterisk-like centre produces,
#: so no simulated day can contain them.
IMPOSSIBLE: dict[str, str] = {
    "leg1_empty": "an outbound call's first leg is always dialled: every row of Exotel's "
    "outbound tables gives leg1 a status (only a source that drops leg1 shows it empty)",
    "leg1_missed_call": "missed-call is the overall status of an incoming call whose agents "
    "were all busy, never the status of a leg",
    "ringing_hangup": "only with [rules] hangup_while_ringing = 'abandoned'; the simulator's "
    "truth follows the seed's default rules",
    "leg2_missed_call": "missed-call is the overall status of an incoming call whose agents "
    "were all busy, never the status of a leg",
}
