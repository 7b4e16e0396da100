"""The call's story (monitor.story), told from a call's own events as well as the board's.

The board keeps each call's events as lines of words, not as events (its tracker
keeps none); a tracker that keeps the events tells the same story from them.
test_board.py checks what the story says.
"""

from __future__ import annotations

from pathlib import Path

from classifier.tracker import CallTracker
from classifier.verdict import Outcome
from monitor.board import PANEL_TITLES
from monitor.story import Story, describe_event, story_of
from tests.app_support import BOARD_LOG, board_from, clean_events
from tests.app_support import BOARD_NOW as NOW
from tests.rules_support import RULES_DIR

EXOTEL_LOG = RULES_DIR / "exotel_incoming.jsonl"


def stories_from_events(log: Path, titles: dict[Outcome, str] = PANEL_TITLES) -> dict[str, Story]:
    """Every call's story, told from the events a tracker keeps with each call."""
    tracker = CallTracker(keep_events=True)
    stories: dict[str, Story] = {}
    for event in clean_events(log):
        applied = tracker.apply(event)
        if applied.call is not None and applied.verdict is not None:
            stories[applied.call.call_id] = story_of(
                applied.call, applied.verdict, NOW, titles=titles
            )
    for call in tracker:
        stories[call.call_id] = story_of(call, None, NOW, titles=titles)
    return stories


def test_a_call_tells_the_same_story_from_its_events_as_the_board_does() -> None:
    for log in (BOARD_LOG, EXOTEL_LOG):
        board = board_from(log)
        stories = stories_from_events(log)
        assert len(stories) >= 3
        for call_id, story in stories.items():
            assert board.story(call_id, NOW) == story, call_id
        first = next(iter(clean_events(log)))
        assert stories[first.call_id].lines[0].text == describe_event(first)


def test_the_outcome_is_named_as_the_board_titles_it() -> None:
    titles = {outcome: f"<{outcome.value}>" for outcome in Outcome}
    story = stories_from_events(BOARD_LOG, titles)["c05"]
    assert story.title == "Call c05: <missed>"
    assert any(line.text.startswith("outcome: <missed> (") for line in story.lines)
