"""The agents of several sites on one board: each site's agents' day, labelled, as one.

A board of several sites (`classifier.sites`) shows every site's agents in one
agents panel, as it shows every site's calls in one table. Each site's agents'
day (`classifier.agents.AgentsDay`, as its hub keeps it) is labelled the way its
events are (`classifier.sites.labelled`): the agent `1001` of site `a` is
`a/1001`, the queues they serve `a/sales`, the calls they are on and their story
lines' calls `a/call-1`. Two sites' agent 1001 are two rows, and a labelled event
that reaches the board later finds its agent and call under the same names, so
the merged day goes on exactly as each site's own does. The header's counts by
state come from this one day, so they are the sites' counts added up.

Built as plain data and read back (`AgentsDay.to_dict` / `from_dict`, the one way
into an agents' day, as `classifier.sites.merge_days` does for the day). The
bounds are the agents' day's own: each agent's newest `story_lines` lines (the
older counted in `story_dropped`; the board asks for the few a hub's snapshot
carries, as the cost grows with the lines), and past `MAX_AGENTS` agents or
`MAX_OPEN_CALLS` calls in all, the rest counted in `agents_refused` /
`calls_forgotten`, never dropped unsaid.

Pure: no I/O, used by `monitor.app.sites_feed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classifier.agents import (
    FORMAT_VERSION,
    MAX_AGENTS,
    MAX_OPEN_CALLS,
    STORY_LINES,
    AgentsDay,
)
from classifier.sites import label


def labelled_agents(data: Mapping[str, Any], site: str) -> dict[str, Any]:
    """A site's agents' day as `AgentsDay.to_dict` gives it, with every agent, queue
    and call id labelled with `site` (the rest as given)."""

    def queue(name: str | None) -> str | None:
        return None if name is None else label(site, name)

    agents = []
    for record in data["agents"]:
        call = record["call"]
        agents.append(
            record
            | {
                "name": label(site, record["name"]),
                "queues": [label(site, q) for q in record["queues"]],
                "call": None
                if call is None
                else call
                | {"call_id": label(site, call["call_id"]), "queue": queue(call["queue"])},
                "story": [
                    line
                    | {
                        "call_id": label(site, line["call_id"]) if line["call_id"] else "",
                        "queue": queue(line["queue"]),
                    }
                    for line in record["story"]
                ],
            }
        )
    calls = [
        record
        | {
            "call_id": label(site, record["call_id"]),
            "queue": queue(record["queue"]),
            "agents": [label(site, a) for a in record["agents"]],
            "seen": [[kind, label(site, name), at] for kind, name, at in record["seen"]],
        }
        for record in data["calls"]
    ]
    return dict(data) | {"agents": agents, "calls": calls}


def merge_agents(days: Mapping[str, AgentsDay], story_lines: int = STORY_LINES) -> AgentsDay:
    """One agents' day of every site's agents, labelled (see the module docstring).

    Sites in the order given; each agent's newest `story_lines` lines kept, the older
    counted in `story_dropped`; agents past `MAX_AGENTS` in all are counted in
    `agents_refused`, and the oldest calls past `MAX_OPEN_CALLS` in `calls_forgotten`.
    """
    agents: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    refused = forgotten = 0
    for site, day in days.items():
        data = labelled_agents(day.to_dict(story_lines=story_lines), site)
        agents += data["agents"]
        calls += data["calls"]
        refused += data["agents_refused"]
        forgotten += data["calls_forgotten"]
    refused += max(0, len(agents) - MAX_AGENTS)
    forgotten += max(0, len(calls) - MAX_OPEN_CALLS)
    return AgentsDay.from_dict(
        {
            "version": FORMAT_VERSION,
            "agents_refused": refused,
            "calls_forgotten": forgotten,
            "agents": agents[:MAX_AGENTS],
            "calls": calls[-MAX_OPEN_CALLS:],
        }
    )
