"""Hostile event socket input: the frame reader and the mapper never fail but in their own words.

Generated frames go through a real stream reader (`read_frame`), then their bodies
through the mapper: any input ends as events, a problem told, an `EslEventError`
naming the header, or `EslBroken` for a stream that cannot go on; nothing else.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.sources.esl_client import EslBroken, event_headers, read_frame
from monitor.sources.freeswitch import CallcenterMapper, EslEventError

ACTIONS = st.sampled_from(
    [
        "member-queue-start",
        "member-queue-end",
        "agent-offering",
        "bridge-agent-start",
        "bridge-agent-end",
        "bridge-agent-fail",
        "agent-status-change",
        "agent-state-change",
        "members-count",
    ]
)
VALUE = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "Cancel",
            "Terminated",
            "TIMEOUT",
            "BREAK_OUT",
            "On Break",
            "Idle",
            "-1",
            "1e999",
            "1796461200000000",
            "%ZZ",
            "%0A",
            "a@b",
        ]
    ),
)
HEADERS = st.sampled_from(
    [
        "CC-Member-UUID",
        "CC-Queue",
        "CC-Agent",
        "CC-Cause",
        "CC-Cancel-Reason",
        "CC-Agent-Status",
        "CC-Agent-State",
        "CC-Member-Joined-Time",
        "CC-Hangup-Cause",
        "Event-Date-Timestamp",
    ]
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, str]:
    headers = {
        "Event-Name": draw(st.sampled_from(["CUSTOM", "CUSTOM", "CHANNEL_ANSWER", ""])),
        "Event-Subclass": draw(st.sampled_from(["callcenter::info", "other", ""])),
        "CC-Action": draw(st.one_of(ACTIONS, st.text(max_size=6))),
        "CC-Member-UUID": draw(st.sampled_from(["m1", "m2", ""])),
    }
    for name, value in draw(st.lists(st.tuples(HEADERS, VALUE), max_size=8)):
        headers[name] = value
    return headers


@settings(max_examples=120, deadline=None)
@given(st.lists(events(), max_size=12))
def test_the_mapper_maps_or_names_the_problem(script: list[dict[str, str]]) -> None:
    mapper = CallcenterMapper()
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    for headers in script:
        try:
            mapper.event(headers, now)
        except EslEventError as exc:
            assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_the_frame_reader_reads_or_names_the_problem(data: bytes) -> None:
    async def read_all() -> list[str]:
        reader = asyncio.StreamReader(limit=64 * 1024)
        reader.feed_data(data)
        reader.feed_eof()
        problems: list[str] = []
        try:
            while True:
                frame = await read_frame(reader, problems.append)
                event_headers(frame.body)
        except EslBroken as exc:
            assert str(exc)
        return problems

    asyncio.run(read_all())
