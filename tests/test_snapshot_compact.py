"""What a snapshot carries beside the calls' state stays bounded: an agent's story is cut
to its newest lines (the board says how many it does not have), the open calls' agent
events are not repeated. A real hub, real boards fed as `callboard watch` feeds its own.
"""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from classifier.agents_state import SNAPSHOT_STORY_LINES
from monitor.agents_view import agent_story
from monitor.feed.hub import running_hub
from tests.day_support import BoardFollower
from tests.hub_support import make_calls


async def test_a_late_board_has_an_agents_newest_story_lines_and_says_how_many_it_lacks() -> None:
    events = make_calls(30)  # ann rings and answers each of them: 60 story lines or so
    async with running_hub() as hub:
        watcher = BoardFollower(hub.url)
        await watcher.caught_up(0)
        for event in events[:-2]:  # the last call still in progress, ann talking
            assert hub.publish(event).accepted
        await watcher.caught_up(hub.seq)
        late = BoardFollower(hub.url)
        await late.caught_up(hub.seq)
        async with connect(hub.url) as ws:
            first = json.loads(await ws.recv())
        await late.stop()
        await watcher.stop()
    full = watcher.board.agents.agents["ann"]
    cut = late.board.agents.agents["ann"]
    assert len(full.story) > SNAPSHOT_STORY_LINES
    assert list(cut.story) == list(full.story)[-SNAPSHOT_STORY_LINES:]
    assert cut.story_dropped == len(full.story) - SNAPSHOT_STORY_LINES
    # The day's figures are the watcher's, the call in progress included.
    assert (cut.answered, cut.talks, cut.state, cut.call) == (
        full.answered,
        full.talks,
        full.state,
        full.call,
    )
    now = watcher.board.last_ts
    assert now is not None
    story = agent_story(cut, now)
    assert story.lines[0].text == f"{cut.story_dropped} earlier lines not kept on this board"
    # The call in progress is the snapshot's: the agents' day names only who is on it.
    agents = first["day"]["agents"]
    assert [c["id"] for c in first["calls"]] == ["call-00029"]
    assert agents["ag"] == {"call-00029": ["ann"]} and "calls" not in agents
    assert list(late.board.agents.held_calls()) == list(watcher.board.agents.held_calls())
