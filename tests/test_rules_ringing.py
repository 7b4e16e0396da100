"""`[rules] hangup_while_ringing`: the switch changes exactly the verdicts it should.

Every fixture of fixtures/rules is classified with the seed's rules and with
`hangup_while_ringing = "abandoned"`; only the calls whose caller hung up while an
agent's phone rang may differ, and each of those must be abandoned by the switch's
own rule, which the verdict names.
"""

from __future__ import annotations

from classifier.call import Phase
from classifier.rules import (
    ALL_REASONS,
    EVENT_RULES,
    RINGING_HANGUP,
    HangupWhileRinging,
    event_rules,
)
from classifier.schema import EndedBy
from classifier.tracker import CallTracker, Result
from classifier.verdict import Outcome, Verdict
from monitor.sources.reader import LineError, read_events
from tests.rules_support import RULES_DIR


def verdicts_and_ringing(rules: HangupWhileRinging) -> tuple[dict[str, Verdict], set[str]]:
    """Every fixture's verdicts by call id, and the calls hung up by the caller while ringing."""
    verdicts: dict[str, Verdict] = {}
    ringing: set[str] = set()
    for path in sorted(RULES_DIR.glob("*.jsonl")):
        if path.name.endswith(".expected.jsonl"):
            continue
        tracker = CallTracker(rules=event_rules(rules))
        for item in read_events(path):
            assert not isinstance(item, LineError), str(item)
            applied = tracker.apply(item.event)
            assert applied.result is Result.APPLIED, applied.problem
            if applied.verdict is not None:
                call = applied.call
                assert call is not None and call.ended is not None
                if call.ended.by is EndedBy.CALLER and call.phase_at_end is Phase.RINGING:
                    ringing.add(applied.verdict.call_id)
                verdicts[f"{path.stem}/{applied.verdict.call_id}"] = applied.verdict
    return verdicts, {key for key in verdicts if key.split("/")[1] in ringing}


def test_the_default_is_the_seeds_rule_3() -> None:
    assert event_rules() is EVENT_RULES
    assert event_rules(HangupWhileRinging.MISSED) is EVENT_RULES


def test_the_switch_changes_only_the_calls_hung_up_while_ringing() -> None:
    seed, ringing = verdicts_and_ringing(HangupWhileRinging.MISSED)
    switched, ringing_again = verdicts_and_ringing(HangupWhileRinging.ABANDONED)
    assert ringing == ringing_again
    assert seed.keys() == switched.keys()
    # The fixtures hold such calls (rule 3's r3-hung-up-ringing at least), and some of
    # them were missed by rule 3: otherwise this test could not fail.
    assert any(seed[key].rule == "rule 3" for key in ringing)
    changed = {key for key in seed if seed[key] != switched[key]}
    assert changed == {key for key in ringing if seed[key].rule == "rule 3"}
    for key in changed:
        before, after = seed[key], switched[key]
        assert (before.outcome, before.reason) == (Outcome.MISSED, "agent_not_answered")
        assert (after.outcome, after.reason) == (Outcome.ABANDONED, "ringing_hangup")
        assert after.rule == "rules.hangup_while_ringing"
        # Same call, same facts: only the judgement and who made it differ.
        assert after.detail == before.detail
        assert after.wait_s == before.wait_s and after.agents_rung == before.agents_rung


def test_the_switchs_rule_sits_just_before_rule_3_and_its_reason_is_known() -> None:
    rules = event_rules(HangupWhileRinging.ABANDONED)
    keys = [rule.key for rule in rules]
    assert keys.index(RINGING_HANGUP.key) + 1 == keys.index("rule 3")
    assert [rule for rule in rules if rule is not RINGING_HANGUP] == list(EVENT_RULES)
    assert ALL_REASONS["ringing_hangup"] is Outcome.ABANDONED
