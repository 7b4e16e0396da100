"""Figure 18: the agents a board of two sites hands itself at a rebuild, beside one hub's.

    python -m bench --only sitesagents

A board of several sites (`monitor.app.sites_feed`) rebuilds itself whenever a
site's hub sends a snapshot (on connect, a re-sync): every site's agents' day is
labelled and merged (`classifier.sites_agents.merge_agents`), written in the
snapshot's form (`classifier.agents_state.to_snapshot`) and read back by the board
(`from_snapshot`, as `Board._load_day` does). This measures that hand-over on the
loop, CPU time (`time.process_time`), fastest of `RUNS` in turns:

* **merged**: the two sites' days merged with each agent's newest
  `SNAPSHOT_STORY_LINES` lines, then written and read as the board does;
* **baseline**: the same agents in one day (the merged one), written and read:
  what a board of one hub with as many agents does at a snapshot;
* **every line**: the merge and hand-over keeping every story line the sites
  hold (what the board does not do: the reason it keeps the newest few).

Each site is the simulator's centre over a working day (`AGENTS` agents, 8 h at
`CALLS_PER_HOUR`; the smoke run a small one), its events applied to an
`AgentsDay` as its hub does. The merged day must hold both sites' agents (the
figure fails otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from classifier.agents import STORY_LINES, AgentsDay
from classifier.agents_state import SNAPSHOT_STORY_LINES, from_snapshot, to_snapshot
from classifier.sites_agents import merge_agents
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate

KEY = "sitesagents"
TITLE = "18. a board of two sites hands itself their agents"
#: Turns of each measurement; each side judged by its fastest.
RUNS = 3
AGENTS = 300
CALLS_PER_HOUR = 3000.0


def site_day(seed: int, agents: int, calls_per_hour: float, hours: float) -> AgentsDay:
    """A simulated site's agents' day, as its hub keeps it."""
    day = AgentsDay()
    config = SimConfig(agents=agents, calls_per_hour=calls_per_hour, hours=hours, seed=seed)
    for event in simulate(config):
        day.apply(event)
    return day


def _cpu(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Measure the three hand-overs (module docstring)."""
    agents, calls, hours = (30, 300.0, 1.0) if scale.smoke else (AGENTS, CALLS_PER_HOUR, 8.0)
    days = {"a": site_day(1, agents, calls, hours), "b": site_day(2, agents, calls, hours)}
    merged = merge_agents(days, SNAPSHOT_STORY_LINES)
    if len(merged.agents) != sum(len(d.agents) for d in days.values()):
        raise RuntimeError("the merged day does not hold both sites' agents")

    def board_rebuild() -> None:
        day = merge_agents(days, SNAPSHOT_STORY_LINES)
        from_snapshot(to_snapshot(day, []), [])

    def one_hub() -> None:
        from_snapshot(to_snapshot(merged, []), [])

    def every_line() -> None:
        day = merge_agents(days, STORY_LINES)
        from_snapshot(to_snapshot(day, [], story_lines=STORY_LINES), [])

    best: dict[str, float] = {}
    for _ in range(RUNS):
        for name, work in (("merged", board_rebuild), ("one", one_hub), ("all", every_line)):
            spent = _cpu(work)
            best[name] = min(best.get(name, spent), spent)
    ms = {name: round(seconds * 1000, 1) for name, seconds in best.items()}
    figure = Figure(KEY, TITLE)
    figure.add(
        Measure(
            f"two sites' agents merged and handed to the board ({len(merged.agents)} agents)",
            ms["merged"],
            "ms",
            baseline=ms["one"],
            baseline_name="one hub's snapshot of as many agents",
            ratio=ratio(ms["merged"], ms["one"]),
            ratio_name="one hub's",
        )
    )
    figure.add(
        Measure(
            "the same with every story line kept",
            ms["all"],
            "ms",
            baseline=ms["merged"],
            baseline_name="newest 5 lines an agent (what the board does)",
            ratio=ratio(ms["all"], ms["merged"]),
            ratio_name="the board's",
        )
    )
    figure.details = {
        "agents": len(merged.agents),
        "story lines held": sum(len(a.story) for d in days.values() for a in d),
        "cpu ms, fastest of 3": ms,
    }
    return figure
