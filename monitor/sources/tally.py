"""What an adapter read but did not turn into events: counted and listed, never fatal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class SkipTally:
    """Lines (or records) an adapter set aside, counted per kind and reason.

    A vendor log holds more than calls: start-up markers, reloads, lines written
    by add-ons. They are not errors, so they never reject a line, but nothing is
    dropped silently either: each kind is counted here with the reason it was
    set aside, and `classify` prints the counts in its closing table.
    """

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: The first line where each kind was seen, so an operator can look at one.
    first_line: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, what: str, why: str, line: int = 0) -> None:
        """Count one line of kind `what`, set aside because `why`."""
        key = (what, why)
        self.counts[key] += 1
        self.first_line.setdefault(key, line)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, str, int]]:
        """`(what, "why (first at line N)", count)` per kind, most frequent first."""
        out = []
        for (what, why), count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            line = self.first_line.get((what, why), 0)
            where = f" (first at line {line})" if line else ""
            out.append((what, f"{why}{where}", count))
        return out
