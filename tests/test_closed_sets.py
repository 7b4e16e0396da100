"""Values from a closed set are enum members, and what goes out as text is the same text.

A feed's connection state, a row's level, why the hub refused an event and what a
story line tells each take one of a few values (issue 14, item 5). As members, a
misspelt one is an AttributeError (or a mypy error), not a state nothing matches;
as StrEnums they still equal, print and encode as the text they replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from classifier.schema import AgentStatus, Event
from monitor.app.feed import Connection, ConnectionState, fixture_runner
from monitor.app.hub_feed import hub_runner
from monitor.app.screens import StoryBody
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.panels import ProblemsPanel
from monitor.board import Level
from monitor.feed.client import FeedStatus
from monitor.feed.hub import Refusal, running_hub
from monitor.feed.protocol import encode_error, encode_ignored
from monitor.story import LineKind
from tests.app_support import BOARD_NOW, board_from, loaded, make_app
from tests.hub_support import make_calls, wait_for


class Sink:
    """A feed sink that keeps the connection states it is told."""

    def __init__(self) -> None:
        self.states: list[ConnectionState] = []

    def feed_connection(self, connection: Connection) -> None:
        self.states.append(connection.state)

    def feed_snapshot(
        self,
        calls: Iterable[Sequence[Event]],
        presence: Iterable[AgentStatus],
        seq: int | None,
        hub_id: str | None = None,
        day: dict[str, Any] | None = None,
    ) -> None:
        pass

    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        pass

    def feed_problem(self, message: str) -> None:
        pass


async def test_a_hub_feed_reports_members_with_the_feed_status_text() -> None:
    assert Connection().state is ConnectionState.CONNECTING
    assert {status.value for status in FeedStatus} <= {state.value for state in ConnectionState}
    sink = Sink()
    async with running_hub() as hub:
        task = asyncio.ensure_future(hub_runner(hub.url)(sink))
        try:
            await wait_for(lambda: ConnectionState.LIVE in sink.states, "the feed live")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert sink.states[0] is ConnectionState.CONNECTING
    assert all(type(state) is ConnectionState for state in sink.states)


async def test_the_fixture_feed_reports_members() -> None:
    sink = Sink()
    await fixture_runner([])(sink)
    assert sink.states == [ConnectionState.LIVE, ConnectionState.FINISHED]
    assert all(type(state) is ConnectionState for state in sink.states)


async def test_rows_carry_their_level_as_a_member() -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        active = app.query_one(ActiveCalls)
        app.view.now = BOARD_NOW
        width = 120
        levels = [active.row(i, width)[1] for i in range(len(active.rows))]
        assert levels and all(type(level) is Level for level in levels)
        assert levels == [app.board.level(call, BOARD_NOW) for call in active.rows]
        problems = app.query_one(ProblemsPanel)
        assert [problems.row(i, width)[1] for i in range(problems.row_count())] == [
            Level.OK
        ] * problems.row_count()


async def test_a_refusal_is_a_member_and_answers_a_producer_in_the_same_words() -> None:
    events = make_calls(1)
    async with running_hub() as hub:
        assert hub.publish(events[0]).accepted
        assert hub.publish(events[0]).code is Refusal.DUPLICATE
    for refusal in Refusal:
        assert encode_error(refusal, "why", 3) == encode_error(refusal.value, "why", 3)
    assert encode_ignored(Refusal.DUPLICATE, "why", 2) == (
        '{"frame":"ignored","code":"duplicate","problem":"why","n":2}'
    )


def test_every_story_line_kind_has_its_style() -> None:
    story = board_from().story("c05", BOARD_NOW)
    assert story is not None
    kinds = {line.kind for line in story.lines}
    assert kinds == set(LineKind), "the fixture's call c05 tells every kind"
    assert all(type(kind) is LineKind for kind in kinds)
    assert {f"story--{kind.value}" for kind in LineKind} <= StoryBody.COMPONENT_CLASSES
