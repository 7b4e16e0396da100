"""A live source's "next try in S s", written by the source and counted down by the board.

A PBX link that is down says so in its state (`StatefulSource.on_state`): `reconnecting
to AMI pbx:5038, attempt 4, next try in 4 s: login refused: ...`. The hub sends those
words in its status frame (the `source` object's `detail`, free text) and the board's
connection bar shows them; the number is true only when said, so the bar counts it
down on the board's clock (`monitor.app.widgets.status`) until the next status comes.

The wire has no field for the delay: the `source` object is protocol 3's, read by
boards of every version, and its `detail` is the source's words. So the words are
written (`next_try`) and found again (`find_next_try`) here, in one place, and cannot
drift apart. A detail worded otherwise (a hub of another version, another source) has
no countdown: it is shown as it came. Pure text; the caller cleans it for the screen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: The words `next_try` writes, as a detail carries them.
_NEXT_TRY = re.compile(r", next try in (\d{1,9}(?:\.\d{1,9})?) s\b")

#: What the countdown says once the time is up (the source is trying, or about to).
TRYING_NOW = ", trying now"


def next_try(seconds: float) -> str:
    """The words for a next try `seconds` from now, after a source's attempt count."""
    return f", next try in {seconds:g} s"


@dataclass(frozen=True, slots=True)
class NextTry:
    """A detail that names its next try: the text around the words, and the seconds."""

    before: str
    #: The words as said (", next try in 4 s"), and their number.
    said: str
    seconds: float
    after: str

    def after_s(self, elapsed: float) -> str:
        """The detail `elapsed` seconds after it was said: the seconds left, in whole
        seconds rounded up (a try due in 0.4 s is not due 'in 0 s'), or `TRYING_NOW`."""
        if elapsed <= 0:
            return self.before + self.said + self.after
        left = self.seconds - elapsed
        words = f", next try in {math.ceil(left)} s" if left > 0 else TRYING_NOW
        return self.before + words + self.after


def find_next_try(detail: str) -> NextTry | None:
    """The detail's next try, or None when it names none in `next_try`'s words."""
    found = _NEXT_TRY.search(detail)
    if found is None:
        return None
    return NextTry(
        detail[: found.start()], found.group(0), float(found.group(1)), detail[found.end() :]
    )
