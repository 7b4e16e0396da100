"""A set of ids that forgets its oldest members: how adapters remember calls, boundedly.

An adapter that turns a stream of vendor records into events has to remember which
calls it has started and ended (a second record of a call is not a second call, a
retried webhook is not a second event), but a hub or follower runs for weeks: the
memory must not grow with the number of calls ever seen.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

#: How many call ids an adapter remembers by default.
REMEMBER_CALLS = 100_000

V = TypeVar("V")


class Recent:
    """A set that forgets its oldest members beyond `limit`."""

    def __init__(self, limit: int = REMEMBER_CALLS) -> None:
        self._items: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def __contains__(self, item: str) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: str) -> None:
        """Remember `item` (as the newest); the oldest goes once over the limit."""
        self._items[item] = None
        self._items.move_to_end(item)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)


class RecentMap(Generic[V]):
    """A mapping that forgets its oldest keys beyond `limit` (what `Recent` is for a set)."""

    def __init__(self, limit: int = REMEMBER_CALLS) -> None:
        self._items: OrderedDict[str, V] = OrderedDict()
        self._limit = limit

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        """The value kept for `key`, or None."""
        return self._items.get(key)

    def setdefault(self, key: str, value: V) -> V:
        """The value kept for `key`; `value` (kept as the newest) when there was none."""
        kept = self._items.get(key)
        if kept is not None:
            return kept
        self._items[key] = value
        if len(self._items) > self._limit:
            self._items.popitem(last=False)
        return value
