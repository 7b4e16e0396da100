"""Who works when: shift starts laid out so that staffing follows the day's traffic.

A supervisor staffs the morning peak more than the quiet evening. `shift_starts`
does the same, greedily: each agent in turn takes the start (on a quarter-hour grid,
from a quarter of an hour before opening) whose shift adds the most, where one more
agent in a quarter-hour is worth its traffic divided by the agents already there
(the D'Hondt rule: staffing ends up in proportion to traffic). Pure arithmetic, no
randomness: the same centre always gets the same rota.
"""

from __future__ import annotations

#: Planning grid, in hours.
STEP = 0.25
#: Length of a shift, breaks included, in hours.
SHIFT_HOURS = 9.0


def shift_length(opens: float, closes: float) -> float:
    """Nine hours, or the whole opening time (plus a quarter-hour each side) if shorter."""
    return min(SHIFT_HOURS, closes - opens + 2 * STEP)


def shift_starts(
    agents: int, opens: float, closes: float, hourly: tuple[float, ...]
) -> list[float]:
    """The start (hour of the clock) of each agent's shift, in agent order.

    `hourly` is the relative traffic of each hour of the clock (24 values).
    """
    length = shift_length(opens, closes)
    first = opens - STEP
    last = closes + STEP - length
    slots = round(length / STEP)
    grid = [first + i * STEP for i in range(round((closes - opens + 2 * STEP) / STEP))]
    need = [hourly[int(t) % 24] if opens <= t < closes else 0.0 for t in grid]
    cover = [0.0] * len(grid)
    candidates = [i for i in range(len(grid)) if grid[i] <= last + 1e-9] or [0]
    starts = []
    for _ in range(agents):
        best, best_gain = candidates[0], -1.0
        for i in candidates:
            gain = sum(need[j] / (cover[j] + 1) for j in range(i, min(i + slots, len(grid))))
            if gain > best_gain + 1e-9:
                best, best_gain = i, gain
        for j in range(best, min(best + slots, len(grid))):
            cover[j] += 1
        starts.append(grid[best])
    return starts
