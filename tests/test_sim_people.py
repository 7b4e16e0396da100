"""The simulator's agent names read like a real floor (issue 16 item 6).

The first 40 agents used to be "<first name> Silva" each: `agent_name` walked every
first name before it moved to the next surname.
"""

from __future__ import annotations

import json
from collections import Counter

from monitor.sim.people import FIRST_NAMES, SURNAMES, agent_name
from tests.cli_support import callboard


def test_names_mix_first_names_and_surnames() -> None:
    floor = [agent_name(i) for i in range(40)]
    surnames = Counter(name.split()[1] for name in floor)
    # Every surname appears on a floor of 40, none more than twice.
    assert set(surnames) == set(SURNAMES)
    assert max(surnames.values()) <= 2
    assert len({name.split()[0] for name in floor}) == len(FIRST_NAMES)


def test_names_stay_distinct_across_every_pair_and_beyond() -> None:
    pairs = len(FIRST_NAMES) * len(SURNAMES)
    names = [agent_name(i) for i in range(pairs * 2 + 7)]
    assert len(set(names)) == len(names)
    # All pairs are used before a lap number appears.
    assert all(len(name.split()) == 2 for name in names[:pairs])
    assert names[pairs] == f"{agent_name(0)} 2"


def test_a_simulated_floor_has_many_surnames() -> None:
    done = callboard(
        "simulate",
        "--agents",
        "12",
        "--business-hours",
        "00:00-24:00",
        "--hours",
        "1",
        "--calls-per-hour",
        "30",
        "--seed",
        "4",
    )
    assert done.returncode == 0, done.stderr
    agents = {
        json.loads(line)["agent"]
        for line in done.stdout.splitlines()
        if json.loads(line)["type"] == "agent.status"
    }
    assert len(agents) == 12
    assert len({name.split()[1] for name in agents}) == 12
