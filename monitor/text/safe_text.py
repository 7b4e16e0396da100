"""Making untrusted feed text safe to put on a terminal.

Caller ids, agent names, queue names and reasons all come from other people's
systems. They must reach the screen as the characters they are: never parsed as
Rich markup, never written as terminal escape sequences, never reordering the
line around them (bidi overrides), and never so long that one row pushes the
board around. Widgets build `rich.text.Text` from `clean()` output only.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest piece of feed text the board shows in one cell or line.
DISPLAY_LIMIT = 64

#: Escape sequences as a whole (CSI, OSC, DCS/PM/APC/SOS strings, two-byte ESC
#: forms), so their parameters do not show up as debris after the ESC is removed.
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?             # CSI ... final byte
    | \x9b[0-?]*[ -/]*[@-~]?             # 8-bit CSI
    | \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC ... BEL or ST
    | \x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?        # DCS, SOS, PM, APC
    | [\x90\x98\x9e\x9f][^\x1b\x9c]*(?:\x1b\\|\x9c)?
    | \x1b[ -/]*[0-~]?                   # other ESC sequences
    """,
    re.VERBOSE,
)

#: Bidi marks and embedding, override and isolate controls: they reorder what follows
#: them on the screen. `clean` drops them; `escape_for_terminal` writes them as escapes.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))

#: Dropped: the bidi controls, and zero-width joiners and emoji variation selectors
#: (terminals disagree with each other and with Rich about how wide the result is,
#: which breaks columns).
_DROP = dict.fromkeys((*_BIDI, 0x200D, 0xFE0E, 0xFE0F), None)

#: Characters JSON leaves raw that a terminal would act on: DEL, C1 controls (8-bit
#: CSI and friends) and the bidi controls. JSON's control escapes cover the rest.
_TERMINAL_ACTIVE = re.compile("[\x7f-\x9f" + "".join(map(chr, _BIDI)) + "]")

_REPLACEMENT = "\ufffd"


def _printable(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        # Tabs and newlines would break the one-line layout of a row.
        return " " if char in "\t\n\r" else _REPLACEMENT
    if category in ("Cs", "Co", "Cn") or category == "Zl" or category == "Zp":
        return _REPLACEMENT
    return char


def clean(value: object, limit: int | None = DISPLAY_LIMIT) -> str:
    """Untrusted text as a single printable line, at most `limit` characters.

    Escape sequences are removed whole; any other control character becomes
    U+FFFD so that the reader can see something was there; bidi controls are
    dropped; text over the limit is cut and ends with an ellipsis.
    """
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit * 4:
        # Bound the work on a 10 kB hostile string before the regex sees it.
        text = text[: limit * 4]
        cut = True
    else:
        cut = False
    text = _ESCAPES.sub("", text).translate(_DROP)
    if not text.isprintable():
        text = "".join(_printable(c) for c in text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    elif cut:
        text = text[: max(0, len(text) - 1)] + "…"
    return text


def escape_for_terminal(line: str) -> str:
    """A JSON line with the characters a terminal acts on written as \\u escapes.

    The line stays the same JSON (a reader decodes the same text); for output that
    must keep every character, such as `callboard tail` on a terminal.
    """
    return _TERMINAL_ACTIVE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
