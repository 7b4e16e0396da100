"""The commented example `callboard config --example` prints (docs/config.md explains each key).

Kept as text, not generated from the models, because its comments are the point;
tests/test_config.py checks that it parses and validates, so it cannot drift from
the models unnoticed.
"""

EXAMPLE = """\
# callboard.toml: callboard's settings (docs/config.md lists every key).
# Found by --config PATH, then $CALLBOARD_CONFIG, then ~/.config/callboard/callboard.toml.
# A command-line flag wins over the file.

# Targets of every queue; a [queues.NAME] table overrides them for one queue.
[queues."*"]
sl_threshold_s = 20       # answered within this many seconds counts for the service level
sl_target_pct = 80        # service level below this is shown red
short_abandon_s = 5       # abandons quicker than this are not held against the centre
wait_warn_s = 30          # a caller waiting longer is shown amber (!)
wait_alert_s = 60         # ... and red (!!)
abandon_warn_pct = 10     # abandon rate above this is shown red

[queues.support]
label = "Support"         # the name the board shows
sl_target_pct = 90

[queues.test-line]
hidden = true             # not shown on the board

# Display names by agent id.
[agents]
"Agent/1127" = "Priya"

# How long an agent may stay paused, in wrap-up or ringing before the agents panel
# marks the row ! (warn) and !! (alert); the header counts agents paused past alert.
# An alert level left out is twice its warning level.
[agent_targets]
pause_warn_s = 900        # 15 minutes
pause_alert_s = 1800
wrap_up_warn_s = 120
ringing_warn_s = 30

# Where vendors count differently, the centre's choice.
[rules]
hangup_while_ringing = "missed"   # or "abandoned"

[board]
sort = "waiting"          # waiting, total, state, queue or caller
panels = ["completed", "missed", "abandoned", "voicemail", "not_connected"]
refresh_rate_hz = 10
mask_numbers = false
theme = "textual-dark"

[day]
timezone = "Europe/London"
day_start = "00:00"

[alerts]
bell = true               # ring the terminal bell when an alert is raised
desktop = false           # a desktop notification (OSC 777 / OSC 9) as well

[[alerts.rules]]
name = "long wait"
metric = "longest_wait_s" # service_level_pct, abandon_rate_pct, longest_wait_s,
                          # calls_waiting or agents_available
above = 30                # or below = N
queue = "support"         # leave out to judge every queue alone
for_s = 0                 # how long it must hold before it is raised
clear_for_s = 60          # how long it must stop holding before it clears (default 0)

[[alerts.rules]]
name = "service level low"
metric = "service_level_pct"
below = 80
for_s = 300

# The hub (callboard serve --config FILE) POSTs each raised and cleared alert here.
[alerts.webhook]
url = "http://127.0.0.1:9000/callboard"
secret = "change-me"      # sent as the header X-Callboard-Secret
timeout_s = 5
"""
