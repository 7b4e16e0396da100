"""Whatever bytes a vendor log holds, an adapter answers with events or named errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.sources.asterisk import QueueLogAdapter
from monitor.sources.exotel import ExotelAdapter
from monitor.sources.reader import LineError, LineEvent

EVENTS = st.sampled_from(
    [
        "ENTERQUEUE",
        "RINGNOANSWER",
        "RINGCANCELED",
        "CONNECT",
        "COMPLETECALLER",
        "COMPLETEAGENT",
        "ABANDON",
        "EXITWITHTIMEOUT",
        "EXITEMPTY",
        "EXITWITHKEY",
        "TRANSFER",
        "BLINDTRANSFER",
        "ATTENDEDTRANSFER",
        "AGENTDUMP",
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "AGENTLOGIN",
        "AGENTCALLBACKLOGOFF",
        "DID",
        "OUTDIAL",
    ]
)
FIELD = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NONE", "1", "10000", "-5", "nan", "1e999", "SIP/1", "Local/1@x/n"]),
)


@st.composite
def queue_log_lines(draw: st.DrawFn) -> bytes:
    epoch = draw(st.one_of(st.integers(-(10**12), 10**12).map(str), st.text(max_size=8)))
    fields = [
        epoch,
        draw(st.sampled_from(["1.1", "1.2", "NONE", "x" * 200])),
        draw(st.sampled_from(["q", "NONE", ""])),
        draw(FIELD),
        draw(st.one_of(EVENTS, st.text(max_size=10))),
        *draw(st.lists(FIELD, max_size=6)),
    ]
    return "|".join(fields).encode("utf-8", errors="surrogatepass")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(queue_log_lines(), st.binary(max_size=80)), max_size=30))
# Found by this test: a ring time that pushes the ring start out of the calendar.
@example([b"0|1.1|q||ENTERQUEUE", b"0|1.1|q|0|RINGNOANSWER|1E14"])
@example([b"-62135596800|2.1|q||ENTERQUEUE", b"-62135596800|2.1|q|0|CONNECT|1|x|5"])
def test_queue_log_adapter_never_raises(lines: list[bytes]) -> None:
    adapter = QueueLogAdapter()
    for number, raw in enumerate(lines, start=1):
        for item in adapter.feed("fuzz", number, raw):
            assert isinstance(item, LineEvent | LineError)
            if isinstance(item, LineError):
                assert item.line == number and item.problem


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.one_of(st.text(max_size=6), st.integers()),
        "CallSid": st.text(max_size=6),
        "Direction": st.sampled_from(["inbound", "outbound-api", "outbound-dial", "x", ""]),
        "Status": st.sampled_from(["completed", "in-progress", "busy", "voicemail", ""]),
        "StartTime": st.one_of(st.text(max_size=20), st.integers(), st.floats()),
        "EndTime": st.sampled_from(["2026-11-23 10:00:00", "", "soon"]),
        "Leg1Status": st.sampled_from(["completed", "no-answer", None, "", "odd"]),
        "Leg2Status": st.one_of(st.sampled_from(["busy", "canceled", None]), JSON_VALUES),
        "Legs": JSON_VALUES,
        "DialCallStatus": JSON_VALUES,
        "ConversationDuration": JSON_VALUES,
        "ParentCallSid": st.sampled_from([None, "", "p"]),
    },
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(RECORD, JSON_VALUES), max_size=10))
def test_exotel_adapter_never_raises(records: list[object]) -> None:
    adapter = ExotelAdapter()
    text = "\n".join(json.dumps(r) for r in records)
    for item in adapter.read_text("fuzz", text):
        assert isinstance(item, LineEvent | LineError)
    for item in adapter.read_text("fuzz", json.dumps(records, indent=1)):
        assert isinstance(item, LineEvent | LineError)


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    adapter = ExotelAdapter()
    deep = "[" * 50_000
    assert [i.problem for i in adapter.read_text("deep", "[\n" + deep) if isinstance(i, LineError)]
    nested = "[" * 900 + "]" * 900
    items = adapter.feed("deep", 1, nested.encode())
    assert [type(i) for i in items] == [LineError]
    bulk_in_bulk = '{"Calls": [{"Calls": [{"Calls": []}]}]}'
    assert all(isinstance(i, LineError) for i in adapter.read_text("deep", bulk_in_bulk))
