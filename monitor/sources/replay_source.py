"""Replaying a JSON Lines log as a live source: an async iterator of events, paced.

A *source* (`monitor.sources.source.Source`) is what the hub can `async for` over to
get events; that is the one plug-in point for replays, the simulator and vendor
adapters. A `monitor.sources.source.ResumableSource` has the two members a journaled
hub uses to resume after a restart:

* `position`: a small JSON-ready dict naming where the last yielded event came
  from (the hub writes it into the journal beside the event);
* `resume_from(position)`: skip everything up to and including that position.

`ReplaySource` offers both, as does `monitor.sources.FollowSource` (a
followed log's position names its files and byte offsets). `ReplaySource`
reads callboard's own JSON Lines, or any vendor format of `monitor.sources`
(`fmt`), through the same adapters `classify --from` uses; one vendor line can
give several events, so a position names the line and the index of the event
within it. At `speed` X it waits (ts gap) / X between events
(`speed=0`: no waiting); with `loop=True` it starts over at the end, giving
each pass fresh call ids (`<id>~2`, `<id>~3`, ...) and timestamps moved on by
the log's span, because a finished call id can never ring again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from classifier.schema import MAX_CALL_ID, Event
from monitor.sources import CALLBOARD, iter_source
from monitor.sources.reader import LineError, LineEvent, read_events

log = logging.getLogger("callboard.replay")


class ReplaySource:
    """Events of a log file in file order, paced at `speed` times real time."""

    kind = "replay"

    def __init__(
        self,
        path: str | Path,
        speed: float = 1.0,
        loop: bool = False,
        max_gap: float | None = None,
        on_problem: Callable[[str], None] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        fmt: str = CALLBOARD,
    ) -> None:
        """`clock` (default: the loop's monotonic clock) and `sleep` pace the replay;
        `fmt` is the log's format (`monitor.sources.FORMATS`)."""
        if speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or positive")
        self.path = Path(path)
        self.format = fmt
        self.name = str(path) if fmt == CALLBOARD else f"{fmt}:{path}"
        self.speed = speed
        self.loop = loop
        self.max_gap = max_gap
        self.position: dict[str, Any] | None = None
        self.problems = 0
        self.events = 0
        self._on_problem = on_problem or (lambda text: log.warning("%s", text))
        #: (pass, line, index within the line) of the last event an earlier run sent.
        self._resume: tuple[int, int, int] | None = None
        self._clock = clock
        self._sleep = sleep

    def resume_from(self, position: dict[str, Any]) -> None:
        """Continue after the line named by `position` (as written by an earlier run)."""
        pass_no = position.get("pass")
        line = position.get("line")
        # Positions written before vendor formats had no index: skip the whole line.
        index = position.get("index", _WHOLE_LINE)
        if isinstance(pass_no, int) and isinstance(line, int) and isinstance(index, int):
            self._resume = (pass_no, line, index)
            self.position = dict(position)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    def _items(self) -> Iterator[LineEvent | LineError]:
        if self.format == CALLBOARD:
            return read_events(self.path)
        return iter_source(self.path, self.format)

    def _span(self) -> timedelta:
        first: datetime | None = None
        last: datetime | None = None
        for item in self._items():
            if isinstance(item, LineError):
                continue
            ts = item.event.ts
            first = ts if first is None or ts < first else first
            last = ts if last is None or ts > last else last
        if first is None or last is None:
            return timedelta(seconds=1)
        return last - first + timedelta(seconds=1)

    async def _events(self) -> AsyncIterator[Event]:
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file")
        span = self._span() if self.loop else timedelta(0)
        pass_no = 1
        if self._resume is not None:
            pass_no = self._resume[0]
        clock = self._clock or asyncio.get_running_loop().time
        while True:
            skip_to = (0, 0)
            if self._resume is not None and self._resume[0] == pass_no:
                skip_to = (self._resume[1], self._resume[2])
            produced = 0
            line_no, index = 0, -1
            anchor_wall: float | None = None
            virtual = 0.0
            last_ts: datetime | None = None
            for item in self._items():
                if isinstance(item, LineError):
                    if item.line > skip_to[0] or item.line == 0:
                        self.problems += 1
                        self._on_problem(str(item))
                    continue
                index = index + 1 if item.line == line_no else 0
                line_no = item.line
                if (line_no, index) <= skip_to:
                    continue
                event = item.event
                if pass_no > 1:
                    event = _shifted(event, pass_no, span * (pass_no - 1))
                if self.speed > 0:
                    if anchor_wall is None:
                        anchor_wall = clock()
                    elif last_ts is not None and event.ts > last_ts:
                        gap = (event.ts - last_ts).total_seconds()
                        virtual += gap if self.max_gap is None else min(gap, self.max_gap)
                    if last_ts is None or event.ts > last_ts:
                        last_ts = event.ts
                    delay = anchor_wall + virtual / self.speed - clock()
                    if delay > 0:
                        await self._sleep(delay)
                self.position = {
                    "source": self.name,
                    "pass": pass_no,
                    "line": line_no,
                    "index": index,
                }
                produced += 1
                self.events += 1
                yield event
            self._resume = None
            if not self.loop or (produced == 0 and skip_to == (0, 0)):
                return
            pass_no += 1


#: A resume index past any line's last event.
_WHOLE_LINE = 1 << 30


def _shifted(event: Event, pass_no: int, shift: timedelta) -> Event:
    """The event as it happens again in a later pass: new call id, later time."""
    update: dict[str, Any] = {"ts": event.ts + shift}
    if event.call_id:
        suffix = f"~{pass_no}"
        update["call_id"] = event.call_id[: MAX_CALL_ID - len(suffix)] + suffix
    return event.model_copy(update=update)
