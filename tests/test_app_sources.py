"""`callboard replay --from asterisk-queue-log`: a real vendor log fills the board."""

from __future__ import annotations

from datetime import UTC, datetime

from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.commands.replay import replay_runner
from tests.app_support import counts, screen_text, until
from tests.cli_support import REAL_QUEUE_LOG

NOW = datetime(2018, 12, 4, 18, 0, 0, tzinfo=UTC)


async def test_replay_of_the_real_queue_log_fills_the_board_with_its_verdicts() -> None:
    runner = replay_runner(REAL_QUEUE_LOG, speed=0, fmt="asterisk-queue-log")
    app = CallboardApp(runner, clock=lambda: NOW, rate=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        # The day's counts are those of the log's last day (2018-12-04 in UTC), as
        # `callboard classify` gives them on this log; the panels start each day afresh
        # with the counts (docs/kpi.md, "The centre's day"), so they hold that day's calls.
        assert counts(app) == {
            Outcome.COMPLETED: 26,
            Outcome.MISSED: 4,
            Outcome.ABANDONED: 1,
            Outcome.VOICEMAIL: 0,
            Outcome.NOT_CONNECTED: 0,
        }
        assert len(app.board.finished(Outcome.COMPLETED)) == 26
        assert len(app.board.finished(Outcome.MISSED)) == 4
        assert len(app.board.finished(Outcome.ABANDONED)) == 1
        assert len(app.board.calls) == 4
        await until(pilot, lambda: "Completed 26" in screen_text(app))
        await until(pilot, lambda: "rang 1126 (no answer)" in screen_text(app))
