"""Many sites, one board: two real hubs on loopback (sites a and b), one board watching both.

The board is the real app headless, fed by `sites_runner` as `callboard watch URL URL`
feeds it; the hubs are real `Hub`s fed the simulator's events. What each hub says
of its day is read with the real `callboard report --so-far` against it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from classifier.day import combined, tally_to_dict
from classifier.kpi import Tally
from classifier.schema import QueueEntered
from classifier.sites import check_site, labelled, merge_days, site_row
from monitor.app.app import CallboardApp
from monitor.app.feed import ConnectionState
from monitor.app.sites_feed import HubAddress, hub_address, sites_runner
from monitor.app.widgets.status import ConnectionBar
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.protocol import (
    Resume,
    Snapshot,
    SourceStatus,
    decode_hub_message,
    encode_resume,
    encode_snapshot_parts,
)
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import until
from tests.cli_support import callboard, report_totals
from tests.day_support import counted_day


def test_site_names_and_labels() -> None:
    assert check_site("north-1_b") == "north-1_b"
    for bad in ("", "a b", "a/b", "x" * 65, "é"):
        with pytest.raises(ValueError, match="not a site name"):
            check_site(bad)
    event = next(e for e in simulate(SimConfig(hours=0.2, seed=5)) if e.type == "queue.entered")
    assert isinstance(event, QueueEntered)
    label = labelled(event, "a")
    assert isinstance(label, QueueEntered)
    assert (label.call_id, label.queue) == (f"a/{event.call_id}", f"a/{event.queue}")
    assert label.ts == event.ts


def test_merged_days_add_up_and_keep_a_row_per_site() -> None:
    a = counted_day(list(simulate(SimConfig(hours=0.5, seed=3))))
    b = counted_day(list(simulate(SimConfig(hours=0.5, seed=4))))
    merged = merge_days({"a": a, "b": b})
    assert tally_to_dict(merged.total) == pytest.approx(tally_to_dict(combined([a.total, b.total])))
    assert merged.queues[site_row("a")] == a.total
    assert merged.queues[site_row("b")] == b.total
    for queue, tally in a.queues.items():
        assert merged.queues[f"a/{queue}"] == tally
    # Both sites' newest finished calls, labelled, newest first.
    rows = [row for outcome in merged.recent.values() for row in outcome]
    assert {row.verdict.call_id.split("/")[0] for row in rows} == {"a", "b"}
    assert sum(merged.panel_counts.values()) == sum(a.panel_counts.values()) + sum(
        b.panel_counts.values()
    )
    # Read back as a board reads it: still a day of sites.
    again = type(merged).from_dict(merged.to_dict())
    assert again.queues == merged.queues


def counts(tally: Tally) -> dict[str, int]:
    return {
        "offered": tally.offered,
        "answered": tally.answered,
        "missed": tally.missed,
        "abandoned": tally.abandoned,
        "voicemail": tally.voicemail,
    }


@pytest.mark.slow
async def test_one_board_follows_two_sites_and_keeps_going_when_one_hub_dies() -> None:
    # The same simulator numbering at both sites: their call ids collide unless labelled.
    a_events = list(simulate(SimConfig(hours=0.5, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.5, seed=4)))
    assert {e.call_id for e in a_events} & {e.call_id for e in b_events}
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    async with (
        running_hub(HubConfig(port=0, site="a")) as hub_a,
        running_hub(HubConfig(port=0, site="b")) as hub_b,
    ):
        # Half of each day before the board joins (it comes in each hub's snapshot).
        for event in a_events[: len(a_events) // 2]:
            hub_a.publish(event)
        for event in b_events[: len(b_events) // 2]:
            hub_b.publish(event)
        runner = sites_runner([HubAddress(hub_a.url), HubAddress(hub_b.url)])
        app = CallboardApp(runner, clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
            assert [s.site for s in app.connection.sites] == ["a", "b"]
            for event in a_events[len(a_events) // 2 :]:
                hub_a.publish(event)
            for event in b_events[len(b_events) // 2 :]:
                hub_b.publish(event)
            day = app.board.day
            await until(
                pilot,
                lambda: (
                    day is app.board.day
                    and day.queues.get(site_row("a")) == hub_a.day.total
                    and day.queues.get(site_row("b")) == hub_b.day.total
                ),
            )
            report_a, report_b = await report_totals(hub_a.url), await report_totals(hub_b.url)
            board = app.board
            site_a, site_b = board.day.queues[site_row("a")], board.day.queues[site_row("b")]
            assert counts(site_a) == {k: report_a[k] for k in counts(site_a)}
            assert counts(site_b) == {k: report_b[k] for k in counts(site_b)}
            # The total is the sum of the sites' rows (waits are float sums: any order).
            total = tally_to_dict(board.day.total)
            assert total == pytest.approx(tally_to_dict(combined([site_a, site_b])))
            # Each site's queues are rows of their own, after the site's row.
            _, per_queue = board.kpis(now)
            names = list(per_queue)
            assert names.index("a/*") < names.index(f"a/{sorted(hub_a.day.queues)[0]}")
            assert {n.split("/")[0] for n in names} == {"a", "b"}
            # Calls of both sites, told apart although their own ids are the same.
            a_calls = {c for c in board.calls if c.startswith("a/")}
            assert a_calls == {f"a/{c.call_id}" for c in hub_a.tracker}

            await hub_b.stop()
            await until(pilot, lambda: app.connection.sites[1].state == "reconnecting")
            bar = app.query_one(ConnectionBar).describe().plain
            assert "● a live" in bar and "◌ b reconnecting" in bar
            assert app.connection.state is ConnectionState.LIVE
            # Site a goes on: a new call there reaches the board.
            started = next(e for e in a_events if e.type == "call.started")
            late = started.model_copy(update={"call_id": "late-1", "ts": now})
            assert hub_a.publish(late).accepted
            await until(pilot, lambda: "a/late-1" in app.board.calls)


def test_watch_refuses_a_bad_site_and_serve_a_bad_site_name() -> None:
    done = callboard("watch", "ws://127.0.0.1:1/events#no site", "ws://127.0.0.1:2")
    assert done.returncode == 2
    assert "not a site name" in done.stderr
    done = callboard("watch", "ws://127.0.0.1:1#a", "ws://127.0.0.1:2#a")
    assert done.returncode == 2 and "same #site" in done.stderr
    done = callboard("serve", "--site", "a/b")
    assert done.returncode == 2 and "--site" in done.stderr and "not a site name" in done.stderr
    assert hub_address("ws://h:1#north") == HubAddress("ws://h:1/events", "north")


def test_the_hello_frames_carry_the_site_and_hubs_without_one_still_read() -> None:
    source = SourceStatus()
    (with_site,) = encode_snapshot_parts("hub-1", 3, [], [], source, 0.0, site="north")
    (without,) = encode_snapshot_parts("hub-1", 3, [], [], source, 0.0)
    assert "site" not in json.loads(without)
    snapshot, old = decode_hub_message(with_site)[0], decode_hub_message(without)[0]
    assert isinstance(snapshot, Snapshot) and isinstance(old, Snapshot)
    assert (snapshot.site, old.site) == ("north", None)
    resume = decode_hub_message(encode_resume("hub-1", 1, 3, source, site="north"))[0]
    assert isinstance(resume, Resume) and resume.site == "north"
    assert HubConfig(site="north").site == "north"
    with pytest.raises(ValueError, match="not a site name"):
        HubConfig(site="no/slash")


async def test_a_hub_that_refuses_the_board_is_shown_closed_and_the_other_stays_live() -> None:
    started = next(e for e in simulate(SimConfig(hours=0.2, seed=5)) if e.type == "call.started")
    async with (
        running_hub(HubConfig(port=0, site="a")) as hub_a,
        running_hub(HubConfig(port=0, site="b", token="only-for-b")) as hub_b,
    ):
        runner = sites_runner([HubAddress(hub_a.url), HubAddress(hub_b.url)])
        app = CallboardApp(runner)
        async with app.run_test(size=(160, 50)) as pilot:
            states = ["live", "closed"]
            await until(pilot, lambda: [s.state for s in app.connection.sites] == states)
            # Not yet named by a hello, the refusing hub is shown by its address.
            assert app.connection.sites[1].site == f"127.0.0.1:{hub_b.port}"
            assert "401" in (app.connection.sites[1].last_error or "")
            assert any("401" in problem for problem in app.board.problems)
            assert hub_a.publish(started).accepted
            await until(pilot, lambda: f"a/{started.call_id}" in app.board.calls)
            assert app.connection.state is ConnectionState.LIVE
