"""How big each figure runs: the issue's full sizes, or a seconds-long smoke version."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Sizes and durations shared by the figures."""

    smoke: bool
    #: Events in the classifier log (figures 1 and 2).
    events: int
    #: Calls open at once in generated logs and in the wallboard load.
    open_calls: int
    #: Figure 2: most seconds the headless app replay may take.
    replay_seconds: float
    #: Figure 3: events per second and seconds of steady load.
    load_rate: int
    load_seconds: float
    #: Figure 3: seconds the naive board runs the same hub load (its baseline latency).
    naive_seconds: float
    #: Figure 3: rates tried, in-process, when searching each board's sustainable rate.
    naive_rates: tuple[int, ...]
    board_rates: tuple[int, ...]
    ladder_seconds: float
    #: Figure 3: runs that halve the step between the last rate kept up with and the
    #: first one not, after the ladder: the ladder's steps alone are up to 50% apart.
    ladder_refine: int
    #: Figure 4: steady event rate and seconds per terminal size.
    bandwidth_rate: int
    bandwidth_seconds: float
    #: Figure 5: subscriber counts and events published per count.
    fanout_subscribers: tuple[int, ...]
    fanout_events: int
    #: Figure 6: seconds of a quiet centre, one event a second.
    idle_seconds: float
    #: Figures 4 and 6: seconds a board runs after subscribing before it is measured.
    warmup_seconds: float = 3.0


FULL = Scale(
    smoke=False,
    events=1_000_000,
    open_calls=5_000,
    replay_seconds=600.0,
    load_rate=1_000,
    load_seconds=60.0,
    naive_seconds=15.0,
    naive_rates=(25, 50, 100, 200, 300, 400, 600, 800, 1_200, 1_600),
    board_rates=(1_000, 2_000, 4_000, 6_000, 8_000, 12_000, 16_000, 24_000),
    ladder_seconds=10.0,
    ladder_refine=2,
    bandwidth_rate=100,
    bandwidth_seconds=30.0,
    fanout_subscribers=(1, 10, 100),
    fanout_events=20_000,
    idle_seconds=60.0,
)

SMOKE = Scale(
    smoke=True,
    events=20_000,
    open_calls=300,
    replay_seconds=4.0,
    load_rate=200,
    load_seconds=2.0,
    naive_seconds=1.0,
    naive_rates=(50,),
    board_rates=(200,),
    ladder_seconds=1.0,
    ladder_refine=0,
    bandwidth_rate=100,
    bandwidth_seconds=1.0,
    fanout_subscribers=(1, 10),
    fanout_events=500,
    idle_seconds=2.0,
    warmup_seconds=1.0,
)
