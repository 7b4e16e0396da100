"""The terminal-unsafe characters are known in one place, monitor.text.safe_text.

The board drops bidi controls from feed text (`clean`); `tail` on a terminal keeps
every character but writes the ones a terminal acts on as JSON escapes
(`escape_for_terminal`). Both come from the same list, so a bidi control the board
would not show can never reach a terminal raw through `tail`.
"""

from __future__ import annotations

import json
import unicodedata

from monitor.text.safe_text import clean, escape_for_terminal

#: Dropped by `clean` for their width, not because a terminal acts on them.
ZERO_WIDTH_JOINER = "\u200d"


def test_tail_escapes_each_bidi_control_the_board_drops_and_every_c1_control() -> None:
    dropped = [
        char
        for char in map(chr, range(0x80, 0x3000))
        if unicodedata.category(char) == "Cf"
        and clean(f"a{char}b") == "ab"
        and char != ZERO_WIDTH_JOINER
    ]
    assert len(dropped) == 12  # ALM, LRM, RLM, 5 embeddings and overrides, 4 isolates
    active = ["\x7f", *map(chr, range(0x80, 0xA0)), *dropped]
    text = "caller " + "".join(active) + " ok é ✓"
    line = escape_for_terminal(json.dumps({"caller": text}, ensure_ascii=False))
    assert not any(char in line for char in active)
    assert json.loads(line) == {"caller": text}
    assert "ok é ✓" in line  # printable text stays as it is
