"""Keeping Python's cyclic garbage collector from freezing the board.

A board holding thousands of calls holds a million objects; a full (generation 2)
collection walks all of them and stops the event loop for a few hundred
milliseconds, long enough to put the screen visibly behind the feed. Almost all
of these objects are freed by reference counting, not by the cyclic collector.

So the survivors are frozen (`gc.freeze()`) after every full collection and
every few seconds (`tick()`; young collections have long since collected the
short-lived cycles by then): later full collections only walk what is newer.
Cycles that become garbage after being frozen are not reclaimed until
`reclaim()`, which the app runs every ten minutes: one pause of about 200 ms
then (a full walk of a loaded board) instead of one every few seconds. Textual's
strips are such cycles (each holds itself in its own cache), so reclaiming only
hourly let an all-day board creep by megabytes between reclaims.
"""

from __future__ import annotations

import gc
from typing import Any

#: How often the app unfreezes and collects everything.
RECLAIM_EVERY_S = 600.0
#: How often the app freezes what has survived so far.
FREEZE_EVERY_S = 5.0


class CollectorPolicy:
    """Freeze the survivors of each full collection while installed."""

    def __init__(self) -> None:
        self.installed = False

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()

    def install(self) -> None:
        """Start freezing survivors (and freeze what exists now: the startup state)."""
        if not self.installed:
            gc.callbacks.append(self._after_collection)
            self.installed = True
            gc.freeze()

    def tick(self) -> None:
        """Freeze what exists now (the app calls this every `FREEZE_EVERY_S`)."""
        if self.installed:
            gc.freeze()

    def reclaim(self) -> None:
        """Collect everything once, including cycles among frozen objects."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def uninstall(self) -> None:
        """Stop, and hand every object back to the collector."""
        if self.installed:
            gc.callbacks.remove(self._after_collection)
            self.installed = False
            gc.unfreeze()
