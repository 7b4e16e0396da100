"""A board of sites read straight from NATS: `callboard watch nats://HOST:PORT --sites a,b`.

No hub stands between NATS and this board. For each site the board runs, in its
own process, a hub in viewer mode (`NatsConfig.viewer`): it loads the site's
checkpoint from the site's bucket and follows the stream after it, as every hub
of the site does (`monitor.feed.nats_link`), but creates, changes and writes
nothing (no stream, no bucket, no checkpoint, no producers). The board then
follows those hubs exactly as `callboard watch URL URL` follows remote ones
(`monitor.app.sites_feed`): per-site state, merged day, a line per site on the
connection bar, the NATS link's state from the hubs' status frames.

Why a whole hub rather than the checkpoint reader and the ordered consumer alone:
the hub is what turns the stream into the state and day every viewer of the site
sees (the tracker, the day, the agents' day, the same hub seqs); reusing it means
this board's figures cannot part from those of the site's hubs. Each in-process
hub listens on a loopback port of the system's choice with a random token only
this process knows, so no other program can read or publish through it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace

from monitor.app.feed import FeedRunner, FeedSink
from monitor.app.sites_feed import HubAddress, sites_runner
from monitor.feed.hub import Hub, HubConfig
from monitor.feed.nats_config import NatsConfig, NatsUnavailable
from monitor.feed.nats_store import NatsStore


async def check_sites(config: NatsConfig, sites: Sequence[str]) -> None:
    """Reach NATS and find each site's stream, or raise NatsUnavailable saying why.

    Run before the board starts, so that an unreachable NATS or an unknown site is
    exit status 2 with the reason, not an empty board.
    """
    for site in sites:
        store = NatsStore(replace(config, viewer=True), site)
        await store.connect()
        await store.close()


def nats_sites_runner(
    config: NatsConfig, sites: Sequence[str], hub: HubConfig | None = None
) -> FeedRunner:
    """Follow `sites` on NATS until the app ends, as one feed (module docstring).

    `hub`: the day clock, settings and rules the viewer hubs count with (the board's
    own, so its day is the one the site's hubs count with the same file and flags).
    """
    base = hub or HubConfig()

    async def run(sink: FeedSink) -> None:
        token = secrets.token_urlsafe(24)
        hubs: list[Hub] = []
        try:
            for site in sites:
                viewer = Hub(
                    replace(
                        base,
                        host="127.0.0.1",
                        port=0,
                        token=token,
                        publish_token=None,
                        journal=None,
                        alerts=None,
                        site=site,
                        # `sales=30` at every site, `a/sales=30` at site a only (docs/kpi.md).
                        settings=base.settings.for_site(site),
                        nats=replace(config, viewer=True),
                    )
                )
                try:
                    await viewer.start()
                except NatsUnavailable as exc:
                    # NATS went away between the check and now: say so, show the others.
                    sink.feed_problem(f"site {site}: {exc}")
                    continue
                hubs.append(viewer)
            addresses = [HubAddress(h.url, h.config.site) for h in hubs]
            await sites_runner(addresses, token=token, settings=base.settings)(sink)
        finally:
            for viewer in hubs:
                await viewer.stop()

    return run
