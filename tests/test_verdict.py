"""`Verdict.record_json()`: the same text as json.dumps of the record, for any record."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.verdict import Outcome, Verdict

# Any text, including quotes, backslashes, control characters, non-ASCII and the
# characters JSON escapes specially (U+2028, U+2029 are left as they are).
_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", '"', "\\", "\x00\x1f\x7f", "\u2028\u2029", "é ü 中 😀", "</script>", "\ud800"]
)
_NUMBER = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0.0, -0.0, 1e-7, 1e16, 123.456, 0.1 + 0.2])
)
_TEXTS = st.lists(_TEXT, max_size=4)


@st.composite
def verdicts(draw: st.DrawFn) -> Verdict:
    return Verdict(
        call_id=draw(_TEXT),
        outcome=draw(st.none() | st.sampled_from(list(Outcome))),
        reason=draw(st.none() | _TEXT),
        detail=draw(_TEXT),
        direction=draw(_TEXT),
        queue=draw(st.none() | _TEXT),
        agents_rung=tuple(draw(_TEXTS)),
        wait_s=draw(_NUMBER),
        talk_s=draw(_NUMBER),
        started_at=draw(_TEXT),
        ended_at=draw(st.none() | _TEXT),
        rule=draw(_TEXT),
        flags=tuple(draw(_TEXTS)),
    )


@settings(max_examples=400)
@given(verdicts())
def test_record_json_is_json_dumps_of_the_record(verdict: Verdict) -> None:
    assert verdict.record_json() == json.dumps(verdict.record(), ensure_ascii=False)


def test_record_json_of_a_real_verdict_reads_back_as_the_record() -> None:
    verdict = Verdict(
        call_id="c-1",
        outcome=Outcome.MISSED,
        reason="agent_not_answered",
        detail='rang Ana "A" (no answer); hung up in queue sales after 1m05s',
        direction="inbound",
        queue="sales",
        agents_rung=("Ana", "Ben"),
        wait_s=65.25,
        talk_s=0.0,
        started_at="2025-03-03T08:00:00+01:00",
        ended_at="2025-03-03T08:01:05.250000+01:00",
        rule="rule 3",
        flags=("no call.started before queue.entered",),
    )
    assert json.loads(verdict.record_json()) == verdict.record()
