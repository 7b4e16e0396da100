"""The frame scheduler (monitor.app.frames), driven by a clock of the test's own.

The scheduler decides when frames are due; here a small event loop (a clock and
the wake-ups arranged on it) stands in for asyncio, and `Owner` plays the app's
part: it draws when the scheduler says a frame is due, and says when the picture
changed. That the app wires the scheduler to its event loop is tested in
test_app_refresh.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from monitor.app.frames import CLOCK_EVERY_S, FrameScheduler

HZ = 10.0
EVERY = 1 / HZ
#: Where the test clock starts: not on any round number.
START = 5000.123


@dataclass
class Wake:
    """A wake-up arranged on the loop."""

    due: float
    callback: Callable[[], None]
    cancelled: bool = False
    fired: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """A monotonic clock that moves only when told, and the wake-ups arranged on it."""

    def __init__(self) -> None:
        self.now = START
        self.wakes: list[Wake] = []

    def monotonic(self) -> float:
        return self.now

    def wake_at(self, due: float, callback: Callable[[], None]) -> Wake:
        wake = Wake(due, callback)
        self.wakes.append(wake)
        return wake

    def pending(self) -> list[Wake]:
        return [w for w in self.wakes if not w.cancelled and not w.fired]

    def run_until(self, end: float) -> None:
        """Fire every wake-up due by `end` in time order, moving the clock to each."""
        while True:
            due = [w for w in self.pending() if w.due <= end]
            if not due:
                break
            wake = min(due, key=lambda w: w.due)
            self.now = max(self.now, wake.due)
            wake.fired = True
            wake.callback()
        self.now = max(self.now, end)


class Owner:
    """The scheduler's owner, as the app is: draws when a frame is due."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.scheduler = FrameScheduler(HZ, loop.wake_at, self.wake, loop.monotonic)
        self.version = 0
        self.drawn_version = -1
        #: Clock times of the frames drawn.
        self.frames: list[float] = []

    def start(self) -> None:
        self.scheduler.start()
        self.draw()
        self.scheduler.after_frame(pending=False)

    def draw(self) -> None:
        self.drawn_version = self.version
        self.scheduler.drawn()
        self.frames.append(self.loop.now)

    def wake(self) -> None:
        if self.scheduler.frame_due(changed=self.version != self.drawn_version):
            self.draw()
        self.scheduler.after_frame(pending=self.version != self.drawn_version)

    def event(self) -> None:
        self.version += 1
        self.scheduler.event()


def on_grid(t: float) -> bool:
    steps = (t - START) / EVERY
    return math.isclose(steps, round(steps), abs_tol=1e-6)


def started() -> tuple[Loop, Owner]:
    loop = Loop()
    board = Owner(loop)
    board.start()
    return loop, board


def test_a_quiet_board_wakes_once_per_frame_a_second_apart() -> None:
    """A board polling at its repaint rate (10 a second) would wake ten times per frame."""
    loop, board = started()
    scheduler = board.scheduler
    loop.run_until(START + 10.0)
    assert len(board.frames) == 11
    # Every wake-up draws a frame (the first frame is the owner's, at the start).
    assert scheduler.wakes == len(board.frames) - 1
    gaps = [b - a for a, b in zip(board.frames, board.frames[1:], strict=False)]
    assert all(math.isclose(gap, CLOCK_EVERY_S) for gap in gaps), gaps


def test_a_change_is_drawn_at_the_next_repaint_not_the_next_second() -> None:
    loop, board = started()
    scheduler = board.scheduler
    assert scheduler.wake_due - scheduler.drawn_at > 0.5  # the clocks' wake
    clocks = loop.pending()
    loop.run_until(START + 0.33)
    board.event()
    # Due at the next point of the repaint grid: within one repaint interval.
    assert scheduler.wake_due - loop.now <= 1 / HZ
    assert on_grid(scheduler.wake_due)
    assert all(w.cancelled for w in clocks), "the clocks' wake-up still arranged"
    loop.run_until(START + 0.5)
    assert board.drawn_version == board.version
    assert math.isclose(board.frames[-1], START + 0.4)


def test_changes_within_a_repaint_interval_share_one_frame() -> None:
    loop, board = started()
    loop.run_until(START + 0.21)
    arranged = len(loop.wakes)
    for _ in range(50):
        board.event()
        loop.now += 0.001
    assert len(loop.wakes) == arranged + 1, "more than one wake-up for one frame's changes"
    frames = len(board.frames)
    loop.run_until(START + 0.35)
    assert len(board.frames) == frames + 1
    assert board.drawn_version == board.version


def test_an_event_a_second_off_the_grid_costs_one_frame_a_second() -> None:
    """The frame drawn for an event is the clocks' frame too: both fall on the grid."""
    loop, board = started()
    for second in range(1, 21):
        loop.run_until(START + second + 0.37)
        board.event()
    loop.run_until(START + 21.0)
    assert board.drawn_version == board.version
    # Frames at the start, at 1.0 (the clocks'), then at 1.4 ... 20.4: one a second,
    # not a clocks' frame plus an event's frame each second.
    assert len(board.frames) == 22
    assert all(on_grid(t) for t in board.frames)
    assert board.scheduler.wakes == 21


def test_a_later_wake_up_does_not_replace_a_sooner_one() -> None:
    loop, board = started()
    scheduler = board.scheduler
    loop.run_until(START + 0.05)
    scheduler.recheck()
    soon = scheduler.wake_due
    assert math.isclose(soon, START + 0.1)
    arranged = len(loop.wakes)
    scheduler.after_frame(pending=False)  # the clocks' wake-up, later
    assert scheduler.wake_due == soon and len(loop.wakes) == arranged


def test_a_wake_up_with_nothing_due_draws_nothing() -> None:
    loop, board = started()
    loop.run_until(START + 0.05)
    board.scheduler.recheck()
    loop.run_until(START + 0.15)
    assert board.frames == [START]
    assert board.scheduler.wakes == 1


def test_nothing_is_arranged_before_start_or_after_stop() -> None:
    loop = Loop()
    board = Owner(loop)
    board.event()
    board.scheduler.recheck()
    assert loop.wakes == [] and board.scheduler.wake_due == math.inf
    board.start()
    board.event()
    arranged = loop.pending()
    assert arranged
    board.scheduler.stop()
    assert all(w.cancelled for w in arranged)
    assert board.scheduler.wake_due == math.inf
    board.event()
    board.scheduler.after_frame(pending=True)
    assert loop.pending() == []
    # A wake-up the loop fires anyway after the stop reaches no one.
    arranged[0].callback()
    assert board.scheduler.wakes == 0


def test_rate_and_lag_are_measured_once_a_second() -> None:
    loop, board = started()
    scheduler = board.scheduler
    assert scheduler.measure_due()
    assert not scheduler.measure_due()
    loop.now += 0.5
    assert not scheduler.measure_due()
    loop.now += 0.46  # a little short of the second (within half a repaint interval): due
    assert scheduler.measure_due()
    loop.now += 0.9
    assert not scheduler.measure_due()
