"""Every hub source meets `monitor.sources.source.Source`; those that can resume, `ResumableSource`.

mypy checks the classes against the protocol where serve builds them; these tests
check the same objects at run time, as the hub sees them: the hub resumes a source
after a restart only when it is a `ResumableSource`, so a replayed or followed log
must be one and the simulator (a restart starts a new run) must not.
"""

from __future__ import annotations

from pathlib import Path

from monitor.cli import build_parser
from monitor.commands.serve import SimulatorSource
from monitor.sources import FollowSource
from monitor.sources.replay_source import ReplaySource
from monitor.sources.source import ResumableSource
from tests.hub_support import make_calls, write_log


def test_logs_are_resumable_sources(tmp_path: Path) -> None:
    log = write_log(tmp_path / "day.jsonl", make_calls(1))
    replay = ReplaySource(log, speed=0)
    follow = FollowSource(log, "callboard")
    for source, kind in ((replay, "replay"), (follow, "follow")):
        assert isinstance(source, ResumableSource)
        assert (source.kind, source.problems, source.position) == (kind, 0, None)
    assert replay.name == str(log)
    assert follow.name == f"callboard:{log}"


def test_the_simulator_is_a_source_that_does_not_resume() -> None:
    args = build_parser().parse_args(["serve", "--simulate", "--seed", "7"])
    source = SimulatorSource(args, hub_seq=0)
    assert not isinstance(source, ResumableSource)
    assert (source.kind, source.problems, source.position) == ("simulator", 0, None)
    assert source.name.endswith("seed 7")
