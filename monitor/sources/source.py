"""What the hub runs as a source, as typed protocols instead of optional attributes.

A source is the one plug-in point for events coming in (a replayed log, a followed
log, the simulator, vendor adapters as they come): `Hub.attach_source` iterates it
and publishes what it yields. Written down as protocols, mypy checks every source
class against what the hub reads, where `getattr` with defaults hid a misspelt or
missing member until a subscriber saw "source" as a name.

* `Source`: `async for` gives the events; `kind` and `name` are shown to
  subscribers, `problems` counts input the source skipped (shown in the source's
  status and /health), `position` names where the last event yielded came from (a
  small JSON-ready dict the hub journals beside it) or is None.
* `ResumableSource`: a source that can also continue after such a position
  (`resume_from`), so a journaled hub restarted reads on after its last event. The
  hub asks `isinstance(source, ResumableSource)`: a source that cannot resume (the
  simulator: a restart starts a new run) simply lacks the method.
* `StatefulSource` and `CountingSource`: a source that runs for ever (a PBX link)
  tells its trouble as it happens (`on_state`) and its counts by kind on request
  (`counts`), since /health and the board cannot wait for an end that never comes.

`monitor.sources.replay_source` describes positions for a replay.

Whoever runs a source (the hub, or `monitor.app.local_feed` for a board in the
same process) gives the event loop a turn every `SOURCE_TURN` events, since a
source that never waits (a replay at --speed 0) would otherwise hold it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, runtime_checkable

from classifier.schema import Event

#: A source that never waits (a replay at --speed 0) yields the loop after this many
#: events, so subscribers' senders and the board's repaints get their turn (about 1-2 ms
#: of work between turns). Measured on a simulated day replayed into the board in one
#: process: 1 event gives ~900 events/s, 32 gives ~1,400; the subscriber queues stay far
#: below their limit either way.
SOURCE_TURN = 32


class Source(Protocol):
    """Events to publish, with what the hub shows and journals about them."""

    @property
    def kind(self) -> str:
        """What sort of source it is ("replay", "follow", "simulator"), for subscribers."""
        ...

    @property
    def name(self) -> str:
        """Which one it is (a log's path, a simulator's preset and seed), for subscribers."""
        ...

    @property
    def problems(self) -> int:
        """How much input the source skipped so far (bad lines), for the status and /health."""
        ...

    @property
    def position(self) -> dict[str, Any] | None:
        """Where the last event yielded came from, journaled beside it; None if untold."""
        ...

    def __aiter__(self) -> AsyncIterator[Event]: ...


@runtime_checkable
class ResumableSource(Source, Protocol):
    """A source a journaled hub can restart after the last position it journaled."""

    def resume_from(self, position: dict[str, Any]) -> None:
        """Skip everything up to and including `position` (an earlier run's)."""
        ...


@runtime_checkable
class StatefulSource(Source, Protocol):
    """A source with a state of its own to tell subscribers (a PBX link down and retrying):
    the hub sets `on_state`, and the source calls it with a few words, or None when well."""

    on_state: Callable[[str | None], None] | None


@runtime_checkable
class CountingSource(Source, Protocol):
    """A source that runs for ever (a PBX link) and counts what it set aside by kind:
    /health shows `counts()` while it runs, not only when it ends (`Hub.stats`)."""

    def counts(self) -> dict[str, Any]:
        """Small, JSON-ready counts (bounded in size), read on each /health request."""
        ...
