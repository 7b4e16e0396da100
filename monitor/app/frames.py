"""When the board draws its next frame: the frame scheduler.

Redraws are scheduled, not polled: a change asks for a wake-up at the first
moment the repaint rate allows, and after each frame the next one is due a
second later for the clocks. A quiet board wakes about once a second instead of
`repaint_hz` times (each empty wake-up of the event loop costs a few hundred
microseconds, which on a wall screen left running all day is most of its cost).

Frames fall on a grid of repaint intervals, as they would with a timer ticking
at `repaint_hz`, but only the grid points where something is due wake the app.
The grid matters: a quiet centre's events come about once a second, and a frame
drawn for an event at the next grid point is the clocks' frame as well, because
the clocks' next frame falls on the grid a second after it. Frames drawn the
moment an event arrived would drift against the clocks' and make two frames a
second.

The scheduler only decides when. Its owner injects the clock (monotonic
seconds) and the hook that arranges a wake-up at a given time, and is told when
one is due; the app wires them to its event loop and draws the frame. Tests
drive it with a clock of their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

#: Clocks on the board move at least this often (seconds), events or not.
CLOCK_EVERY_S = 1.0
#: Rounding slack when a time falls on the repaint grid (in repaint intervals).
GRID_SLACK = 1e-6


class Timer(Protocol):
    """A wake-up arranged by the owner's hook; the scheduler may cancel it."""

    def cancel(self) -> None:
        """Do not run it after all."""


#: Arranges for the callback to run at the monotonic time given, returning the timer.
WakeHook = Callable[[float, Callable[[], None]], Timer]


class FrameScheduler:
    """Decides when the next frame is due and asks for one wake-up at that moment.

    `wake_at(due, callback)` arranges the wake-up; when it comes the scheduler
    calls `on_due()`, whose owner then asks `frame_due` whether to draw, reports
    `drawn()` when it did, and `after_frame(pending)` to have the next wake-up
    arranged. `changed()` says the picture changed and is to be drawn at the next
    grid point. Nothing is arranged before `start()` or after `stop()`.
    """

    def __init__(
        self,
        repaint_hz: float,
        wake_at: WakeHook,
        on_due: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._every = 1.0 / repaint_hz
        self._wake_hook = wake_at
        self._on_due = on_due
        self._clock = monotonic
        #: A frame (or the rate measured) this close to a second after the last one is
        #: due: half a repaint interval of slack, as a wake-up may come a little early,
        #: and a frame drawn that close to the second loses nothing.
        self._second = CLOCK_EVERY_S - self._every / 2
        self._running = False
        #: The time the grid of repaint intervals counts from (set by `start`).
        self._grid_origin = 0.0
        #: The arranged wake-up and when it is due (inf: none); when the last change
        #: seen is to be drawn (see `changed`).
        self._timer: Timer | None = None
        self._wake_due = math.inf
        self._change_due = -math.inf
        #: Monotonic times of the last frame and of the last rate/lag update.
        self._drawn_at = -math.inf
        self._measured_at = -math.inf
        #: Wake-ups that came so far (a quiet board's cost is one per frame).
        self.wakes = 0

    @property
    def wake_due(self) -> float:
        """When the arranged wake-up is due (monotonic seconds; inf: none arranged)."""
        return self._wake_due

    @property
    def drawn_at(self) -> float:
        """When the last frame was drawn (monotonic seconds; -inf: none yet)."""
        return self._drawn_at

    def start(self) -> None:
        """Start the grid of repaint intervals now; from here on wake-ups are arranged."""
        self._running = True
        self._grid_origin = self._clock()

    def stop(self) -> None:
        """Cancel the arranged wake-up and arrange none again."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake_due = math.inf

    # --- the grid ------------------------------------------------------------------

    def _grid_after(self, t: float) -> float:
        """The first grid point strictly after monotonic time `t`."""
        every = self._every
        return self._grid_origin + (math.floor((t - self._grid_origin) / every) + 1) * every

    def _grid_from(self, t: float) -> float:
        """The first grid point at or after monotonic time `t`."""
        every = self._every
        steps = math.ceil((t - self._grid_origin) / every - GRID_SLACK)
        return self._grid_origin + steps * every

    # --- what the owner tells it ---------------------------------------------------

    def changed(self) -> None:
        """The picture changed: draw it at the next grid point."""
        self._change_due = self._grid_after(self._clock())
        self._wake_at(self._change_due)

    def event(self) -> None:
        """A feed event changed the picture: as `changed`, for the feed's every event.

        A wake-up due no later than the last change's grid point draws this change
        too, so at hundreds of events a second most cost one comparison.
        """
        if self._wake_due > self._change_due:
            self.changed()

    def recheck(self) -> None:
        """Wake at the next grid point, changed or not (the owner wants to look again)."""
        self._wake_at(self._grid_after(self._clock()))

    def frame_due(self, changed: bool) -> bool:
        """Whether a frame is to be drawn now: the picture `changed`, or the clocks are due.

        Clocks show whole seconds: a frame drawn for a change moves them as well, so
        a quiet board draws about one frame a second, not one per event plus one per
        second.
        """
        return changed or self._clock() - self._drawn_at >= self._second

    def measure_due(self) -> bool:
        """Whether the rate and lag are due for an update; if so they count as updated now.

        They move on every frame; read across a room (or paid for over SSH) they are
        worth updating once a second.
        """
        now = self._clock()
        if now - self._measured_at < self._second:
            return False
        self._measured_at = now
        return True

    def drawn(self) -> None:
        """A frame was drawn now: the clocks' next one is due a second later."""
        self._drawn_at = self._clock()

    def after_frame(self, pending: bool) -> None:
        """Arrange the next wake-up: a `pending` change's, else the clocks'."""
        if pending:
            self.changed()
        else:
            self._wake_at(self._grid_from(self._drawn_at + self._second))

    # --- wake-ups ------------------------------------------------------------------

    def _wake_at(self, due: float) -> None:
        """Wake at monotonic time `due`, unless a wake-up comes sooner already."""
        if not self._running or due >= self._wake_due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._wake_due = due
        self._timer = self._wake_hook(due, self._woken)

    def _woken(self) -> None:
        self._timer = None
        self._wake_due = math.inf
        if self._running:
            self.wakes += 1
            self._on_due()
