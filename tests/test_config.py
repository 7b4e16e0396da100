"""callboard.toml: the example validates, every problem is named by file, line and key.

Real files on disk and the real `callboard` command in a subprocess; where the file
is looked for is steered with the variables platformdirs and callboard read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from monitor.app.launch import settings_from
from monitor.cli import build_parser
from monitor.commands.options import UsageError
from monitor.config.lines import key_lines
from monitor.config.load import ConfigError, parse_config
from tests.cli_support import callboard
from tests.rules_support import RULES_DIR

#: A file with one of each kind of problem, each on its own line.
BAD = """\
[queues."*"]
sl_target_pct = 180
[queues.sales]
labl = "Sales"
wait_warn_s = "soon"
[rules]
hangup_while_ringing = "maybe"
[[alerts.rules]]
name = "both"
metric = "longest_wait_s"
above = 30
below = 10
[[alerts.rules]]
name = "neither"
metric = "calls_waiting"
[[alerts.rules]]
name = "unknown metric"
metric = "queue_mood"
above = 1
[alerts.webhook]
url = "ftp://example.org"
timeot_s = 3
"""

#: (line, key) of every problem of BAD, in file order.
BAD_PROBLEMS = [
    (2, 'queues."*".sl_target_pct'),
    (4, "queues.sales.labl"),
    (5, "queues.sales.wait_warn_s"),
    (7, "rules.hangup_while_ringing"),
    (8, "alerts.rules[0]"),
    (13, "alerts.rules[1]"),
    (18, "alerts.rules[2].metric"),
    (21, "alerts.webhook.url"),
    (22, "alerts.webhook.timeot_s"),
]


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Our environment with no config variable and an empty user config directory."""
    env = {k: v for k, v in os.environ.items() if k != "CALLBOARD_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


def test_the_example_parses_and_checks_clean(tmp_path: Path) -> None:
    example = callboard("config", "--example")
    assert example.returncode == 0, example.stderr
    path = tmp_path / "callboard.toml"
    path.write_text(example.stdout)
    checked = callboard("config", "check", str(path))
    assert checked.returncode == 0, checked.stderr
    assert "ok" in checked.stdout
    config = parse_config(example.stdout, "example")
    # The example shows every section with something in it.
    assert config.queues["support"].label == "Support"
    assert config.agents == {"Agent/1127": "Priya"}
    assert config.alerts.webhook is not None and len(config.alerts.rules) == 2
    assert config.queue("support").sl_target_pct == 90
    assert config.queue("sales").sl_target_pct == 80  # from "*"
    assert config.queue("sales").label is None  # "*" labels no queue


def test_check_lists_every_problem_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    checked = callboard("config", "check", str(path))
    assert checked.returncode == 1
    lines = checked.stderr.splitlines()
    assert lines[-1] == f"{len(BAD_PROBLEMS)} problems in {path}"
    assert [line.split(": ")[:2] for line in lines[:-1]] == [
        [f"{path}:{line}", key] for line, key in BAD_PROBLEMS
    ]
    said = dict(zip([key for _, key in BAD_PROBLEMS], lines, strict=False))
    assert said["queues.sales.labl"].endswith("unknown key")
    assert "exactly one of 'above' and 'below'" in said["alerts.rules[0]"]
    assert "exactly one of 'above' and 'below'" in said["alerts.rules[1]"]
    assert "longest_wait_s" in said["alerts.rules[2].metric"]
    assert '"missed" or "abandoned"' in said["rules.hangup_while_ringing"]


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[board]\nsort = "waiting"\ntheme = \n')
    checked = callboard("config", "check", str(path))
    assert checked.returncode == 1
    assert checked.stderr.startswith(f"{path}:3: TOML syntax: ")


def test_a_bad_file_at_start_is_a_usage_error_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    log = RULES_DIR / "rule_03_agent_not_answered.jsonl"
    run = callboard("classify", str(log), "--config", str(path))
    assert run.returncode == 2
    assert run.stdout == ""
    assert "callboard classify: error: 9 problems in the config file" in run.stderr
    assert f"{path}:18: alerts.rules[2].metric: " in run.stderr
    missing = callboard("classify", str(log), "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2
    assert f"{tmp_path / 'none.toml'}: no such file" in missing.stderr


def outcomes(run_stdout: str) -> dict[str, tuple[str, str]]:
    records = [json.loads(line) for line in run_stdout.splitlines()]
    assert records
    return {r["call_id"]: (r["outcome"], r["reason"]) for r in records}


def test_classify_follows_the_files_rules_found_by_flag_variable_or_user_directory(
    tmp_path: Path,
) -> None:
    log = str(RULES_DIR / "rule_03_agent_not_answered.jsonl")
    env = clean_env(tmp_path)
    seed = outcomes(callboard("classify", log, env=env).stdout)
    assert seed["r3-hung-up-ringing"] == ("missed", "agent_not_answered")
    switched = ("abandoned", "ringing_hangup")
    flag = tmp_path / "flag.toml"
    flag.write_text('[rules]\nhangup_while_ringing = "abandoned"\n')
    by_flag = outcomes(callboard("classify", log, "--config", str(flag), env=env).stdout)
    assert by_flag["r3-hung-up-ringing"] == switched
    assert {k: v for k, v in by_flag.items() if k != "r3-hung-up-ringing"} == {
        k: v for k, v in seed.items() if k != "r3-hung-up-ringing"
    }
    by_variable = outcomes(
        callboard("classify", log, env={**env, "CALLBOARD_CONFIG": str(flag)}).stdout
    )
    assert by_variable == by_flag
    user = Path(env["XDG_CONFIG_HOME"]) / "callboard" / "callboard.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[rules]\nhangup_while_ringing = "abandoned"\n')
    assert outcomes(callboard("classify", log, env=env).stdout) == by_flag
    # The flag wins over the variable and the user's file.
    default = tmp_path / "default.toml"
    default.write_text('[rules]\nhangup_while_ringing = "missed"\n')
    chosen = callboard(
        "classify", log, "--config", str(default), env={**env, "CALLBOARD_CONFIG": str(flag)}
    )
    assert outcomes(chosen.stdout) == seed


def test_flags_win_over_the_files_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLBOARD_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "c.toml"
    path.write_text(
        '[queues."*"]\nsl_threshold_s = 30\nshort_abandon_s = 8\n'
        "[queues.sales]\nsl_threshold_s = 15\n"
    )
    parser = build_parser()
    from_file = settings_from(parser.parse_args(["replay", "x", "--config", str(path)]))
    assert (from_file.service_level_s, from_file.short_abandon_s) == (30, 8)
    assert from_file.threshold("sales") == 15 and from_file.threshold("other") == 30
    flags = settings_from(
        parser.parse_args(
            [
                *("replay", "x", "--config", str(path), "--service-level", "25"),
                *("--queue-threshold", "sales=40"),
            ]
        )
    )
    assert flags.threshold("sales") == 40 and flags.threshold("other") == 25
    bare = settings_from(parser.parse_args(["replay", "x"]))
    assert bare.service_level_s == 20 and bare.short_abandon_s == 5
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD)
    with pytest.raises(UsageError, match="problems in the config file"):
        settings_from(parser.parse_args(["replay", "x", "--config", str(bad)]))


def test_no_file_anywhere_is_the_defaults(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    checked = callboard("config", "check", env=env)
    assert checked.returncode == 0 and "no config file" in checked.stdout


def test_key_lines_follow_tables_arrays_dotted_quoted_and_multiline_strings() -> None:
    text = (
        '[queues."*"]\n'
        "label = '''\n"
        "not_a_key = 1\n"
        "'''\n"
        "[[alerts.rules]]\n"
        'name = "a"\n'
        "[[alerts.rules]]\n"
        'name = "b"  # second\n'
        'agents."Agent/1" = "x"\n'
    )
    lines = key_lines(text)
    assert lines[("queues", "*")] == 1
    assert lines[("queues", "*", "label")] == 2
    assert ("queues", "*", "not_a_key") not in lines
    assert lines[("alerts", "rules", 0, "name")] == 6
    assert lines[("alerts", "rules", 1, "name")] == 8
    assert lines[("alerts", "rules", 1, "agents", "Agent/1")] == 9


def test_every_problem_is_reported_not_just_the_first() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BAD, "bad.toml")
    assert [(p.line, p.key) for p in caught.value.problems] == BAD_PROBLEMS


def test_a_key_set_where_it_means_nothing_is_refused_not_ignored() -> None:
    text = '[queues.sales]\nshort_abandon_s = 3\n[queues."*"]\nlabel = "All"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.toml")
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (2, "queues.sales.short_abandon_s"),
        (4, 'queues."*".label'),
    ]
