"""Masking phone numbers for open-plan screens (`--mask-numbers`).

`+14155550101` becomes `+1 415 ••• ••01`: the country code and the first three
digits of the national number stay (they tell a supervisor where a call comes
from), the last two stay (they tell two calls apart), everything else becomes a
bullet. Text that is not a phone number (a name, "anonymous") is left alone,
except that any long run of digits inside it is masked the same way.
"""

from __future__ import annotations

import re

BULLET = "•"

#: Country codes of one digit (NANP and Russia/Kazakhstan); others are taken as two
#: digits, which is right for most of Europe and close enough for a masked screen.
_ONE_DIGIT_CC = ("1", "7")

_PHONE = re.compile(r"^\s*\+?[\d\s().\-/]+$")
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
_MIN_DIGITS = 6


def _group_right(masked: str, size: int = 4) -> str:
    """Split into groups of `size` from the right: '•••••01' -> '••• ••01'."""
    groups = []
    while masked:
        groups.append(masked[-size:])
        masked = masked[:-size]
    return " ".join(reversed(groups))


def _mask_digits(digits: str, international: bool) -> str:
    country = ""
    if international:
        size = 1 if digits[:1] in _ONE_DIGIT_CC else 2
        country, digits = "+" + digits[:size], digits[size:]
    keep_front = digits[:3]
    rest = digits[3:]
    shown_tail = rest[-2:] if len(rest) > 2 else ""
    hidden = BULLET * (len(rest) - len(shown_tail))
    parts = [p for p in (country, keep_front, _group_right(hidden + shown_tail)) if p]
    return " ".join(parts)


def mask_number(value: str) -> str:
    """The value with phone numbers masked; short or non-numeric text unchanged."""
    if _PHONE.match(value):
        digits = re.sub(r"\D", "", value)
        if len(digits) < _MIN_DIGITS:
            return value
        return _mask_digits(digits, value.lstrip().startswith("+"))

    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) < _MIN_DIGITS:
            return match.group(0)
        return _mask_digits(digits, match.group(0).startswith("+"))

    return _DIGIT_RUN.sub(replace, value)


def masked(value: str | None, mask: bool) -> str | None:
    """`mask_number(value)` when `mask`, else the value as it is (None stays None).

    What a report (`callboard report --mask-numbers`) does to each queue and agent
    name it prints: Exotel's agents are the numbers it dialled.
    """
    return mask_number(value) if mask and value is not None else value
