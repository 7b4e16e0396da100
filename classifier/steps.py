"""Work done in steps: a generator that yields between pieces of a long computation.

Why: a hub builds a joining board's snapshot (the agents' day, the panels' rows, the
calls in progress) on its event loop. Done in one go for a big centre it held the
loop for over 100 ms (bench/README.md, "Snapshot joins and stalled subscribers"),
and every other board and producer waited. The domain cannot await (no asyncio
here), so the long computations are written as generators: each `yield` is a point
where the caller may let other work run, and the generator's return value is the
result. Whoever does not care about the loop runs it through with `finish`: one
implementation, whether done at once or in slices.

The state a step reads must not change between its steps: each such generator
takes what it needs at once when it is made (a capture of plain values), not as it
goes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

#: A computation in steps: yields None where the caller may pause, returns the result.
Steps = Generator[None, None, T]


def finish(steps: Steps[T]) -> T:
    """Run `steps` to its end without pausing and give its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result


__all__ = ["Steps", "finish"]
