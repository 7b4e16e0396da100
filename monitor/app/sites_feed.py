"""A feed from several hubs, one per site: `callboard watch URL URL ...` shows them as one board.

Each hub is followed by its own `FeedClient` (reconnecting on its own, so one
hub that fails does not stop the others); their items are merged into the one
feed the board takes (`FeedSink`). Data still flows one way: each site's events
are labelled with the site (`classifier.sites.labelled`: call ids, queues and
agents become `a/...`) and applied to the board as they come, and the board's
day is a `classifier.sites.SitesDay`, the sum of the sites' days with a row per
site.

A snapshot replaces the whole board (`FeedSink.feed_snapshot`), but one hub's
snapshot (on connect, or a re-sync) is news about one site only. So this runner
keeps each site's present beside the board: its calls in progress and presence
(a `CallTracker`), its day (the hub's `DayState`) and its agents' day (the hub's
`AgentsDay`), each from its snapshot, advanced by its events, as the hub does.
When any site sends a snapshot, the board gets one snapshot of every site: each
site's calls and presence, labelled, the merged day, and beside it the sites'
agents merged and labelled (`classifier.sites_agents.merge_agents`), so the
agents panel and the header's counts are every site's. This costs a second
tracker and agents' day update per event, and a rebuild of the board per
snapshot; it buys one board model, unchanged, for one site or many.

A site's name is `URL#site` when given, else the `site` of the hub's first frame
(`serve --site`), else the hub's host:port; two hubs naming the same site are told
apart by the second one's host:port (and the board says so), unless they also share
their hub id: then they are hubs of one site on NATS, and the second becomes the
first one's alternative (`URL1,URL2#site` says so from the start): the board
follows one and fails over to the other with a resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from classifier.agents import AgentsDay
from classifier.agents_state import SNAPSHOT_STORY_LINES
from classifier.agents_state import from_snapshot as agents_from_snapshot
from classifier.agents_state import to_snapshot as agents_to_snapshot
from classifier.call import Call
from classifier.day import DayState
from classifier.kpi import KpiSettings
from classifier.schema import AgentStatus, Event
from classifier.sites import check_site, labelled, labelled_call, merge_days
from classifier.sites_agents import merge_agents
from classifier.tracker import CallTracker
from monitor.app.feed import Connection, ConnectionState, FeedRunner, FeedSink, SiteLink
from monitor.app.hub_feed import connection_of, report_source
from monitor.feed.client import (
    FeedClient,
    FeedRefused,
    FeedState,
    Snapshot,
    SourceStatus,
    events_url,
)


@dataclass(frozen=True, slots=True)
class HubAddress:
    """One hub a board follows: its `/events` URL and the site asked for with `#site`."""

    url: str
    site: str | None = None
    #: Other hubs of the same site to fail over to (`URL1,URL2#site`): on NATS the
    #: hubs of a site share one hub id and the same seqs (docs/scaling.md).
    alternatives: tuple[str, ...] = ()

    @property
    def host_port(self) -> str:
        """The hub's host:port, the site name of last resort."""
        return urlsplit(self.url).netloc


def hub_address(text: str) -> HubAddress:
    """`ws://host:port[/events][,ws://...][#site]` as a `HubAddress`; ValueError naming
    what is wrong. Several URLs before the `#site` are hubs of one site, followed one
    at a time (failover)."""
    hubs, _, fragment = text.partition("#")
    site = check_site(fragment) if fragment else None
    urls = []
    for one in hubs.split(","):
        parts = urlsplit(one.strip())
        urls.append(events_url(urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))))
    if len(set(urls)) != len(urls):
        raise ValueError("the same hub is given twice for one site")
    return HubAddress(urls[0], site, tuple(urls[1:]))


@dataclass
class _Site:
    """What the runner keeps of one site: its client, its present and its day."""

    address: HubAddress
    client: FeedClient | None = None
    #: The name the board shows (None until the hub's first frame when no #site was given).
    name: str | None = None
    tracker: CallTracker = field(default_factory=CallTracker)
    day: DayState | None = None
    #: The hub's agents' day (from its snapshot), advanced by the site's events.
    agents: AgentsDay = field(default_factory=AgentsDay)
    state: FeedState | None = None
    finished: bool = False
    refused: str | None = None
    #: The hub's newest word on its source and store (status, snapshot or resume).
    source: SourceStatus | None = None

    def load(self, snapshot: Snapshot) -> str | None:
        """Start this site over from its hub's snapshot; why its agents' day could
        not be read, if it could not (the site's agents are then counted from here)."""
        self.tracker = CallTracker()
        snapshot.load_into(self.tracker)
        self.day = None
        if snapshot.day is not None:
            try:
                self.day = DayState.from_dict(snapshot.day)
            except ValueError:
                self.day = None  # the board says why when it reads the merged day
        if self.day is None:
            self.day = DayState(mark_start=True)
        self.agents, problem = AgentsDay(), None
        data = None if snapshot.day is None else snapshot.day.get("agents")
        if data is not None:
            facts = ((c.call_id, c.caller, c.queue) for c in snapshot.calls)
            try:
                self.agents = agents_from_snapshot(data, facts)
            except ValueError as exc:
                problem = f"the hub's agents could not be read ({exc}); counting from here on"
        # As a board of one hub does after the hub's agents' day (`Board.load_snapshot`).
        for status in snapshot.presence:
            self.agents.apply(status)
        return problem

    def apply(self, event: Event) -> None:
        """One of the site's events on its present and its day, as its hub applied it."""
        applied = self.tracker.apply(event)
        if self.day is None:
            return
        if self.day.advance(event.ts):
            self.agents.new_day()  # as the hub's agents' day turns with its day
        self.agents.apply(event)
        if applied.verdict is not None and applied.call is not None:
            call = applied.call
            self.day.add(applied.verdict, call.caller, call.callee, event.seq)

    def link(self) -> SiteLink:
        """The site's line on the connection bar."""
        name = self.name or self.address.host_port
        if self.refused is not None:
            return SiteLink(name, ConnectionState.CLOSED, self.refused)
        if self.state is None:
            return SiteLink(name, ConnectionState.CONNECTING, None)
        connection = connection_of(self.state, self.finished, "", self.source)
        return SiteLink(name, connection.state, connection.last_error, connection.store_detail)


def sites_runner(
    hubs: Sequence[HubAddress], token: str | None = None, settings: KpiSettings | None = None
) -> FeedRunner:
    """Follow every hub in `hubs` until the app ends, as one feed (see the module docstring).

    `settings`: the board's service-level thresholds, which the merged day carries when
    each site's hub counted with them as they apply to its site (`merge_days`).
    """

    async def run(sink: FeedSink) -> None:
        sites = [_Site(hub, name=hub.site) for hub in hubs]

        def show_connection() -> None:
            links = tuple(site.link() for site in sites)
            sink.feed_connection(
                Connection(
                    state=_overall(link.state for link in links),
                    url=" ".join(site.address.url for site in sites),
                    source=", ".join(link.site for link in links),
                    sites=links,
                )
            )

        def name_site(site: _Site, said: str | None) -> None:
            if site.address.site is not None:
                return
            wanted = said or site.address.host_port
            taken = {other.name for other in sites if other is not site}
            if wanted in taken:
                sink.feed_problem(
                    f"two hubs are site {wanted!r}: {site.address.url} is shown as "
                    f"{site.address.host_port} (give URL#site to name it)"
                )
                wanted = site.address.host_port
            site.name = wanted

        def merged(site: _Site, snapshot: Snapshot) -> bool:
            """Whether `site` is another hub of a site already followed: then it becomes
            that site's alternative (failover), not a second site. Hubs of one site on
            NATS say the same site and the same hub id (docs/scaling.md)."""
            if site.address.site is not None or snapshot.site is None:
                return False
            for other in sites:
                if (
                    other is not site
                    and other.name == snapshot.site
                    and other.client is not None
                    and other.client.state.hub_id == snapshot.hub_id
                ):
                    for url in (site.address.url, *site.address.alternatives):
                        other.client.add_alternative(url)
                    sites.remove(site)
                    show_connection()
                    return True
            return False

        def snapshot_all() -> None:
            calls: list[Call] = []
            presence: list[AgentStatus] = []
            for site in sites:
                if site.name is None:
                    continue
                for call in site.tracker:
                    calls.append(labelled_call(call, site.name))
                for status in site.tracker.presence.values():
                    relabelled = labelled(status, site.name)
                    assert isinstance(relabelled, AgentStatus)
                    presence.append(relabelled)
            named = {site.name: site for site in sites if site.name is not None}
            day = merge_days({n: s.day for n, s in named.items()}, settings=settings)
            # Each agent's newest few story lines, as a hub's own snapshot carries (the
            # rest counted): with all of them two busy sites' 600 agents took 1.7 s of
            # CPU to hand over, with these 61 ms (bench figure 18).
            agents = merge_agents({n: s.agents for n, s in named.items()}, SNAPSHOT_STORY_LINES)
            # In the snapshot's form, as a hub sends its own (`Board._load_day` reads it).
            facts = ((c.call_id, c.caller, c.queue) for c in calls)
            shown = agents_to_snapshot(agents, facts)
            sink.feed_snapshot(calls, presence, None, None, day=day.to_dict() | {"agents": shown})

        async def follow(site: _Site) -> None:
            reported: set[tuple[str, str, int]] = set()

            def report(source: SourceStatus) -> None:
                key = (source.name, source.state, source.problems)
                if key not in reported:
                    reported.add(key)
                    report_source(sink, source, True, where=f"site {site.name}: ")

            def on_state(state: FeedState) -> None:
                site.state = state
                show_connection()

            client = site.client = FeedClient(
                site.address.url,
                token=token,
                on_state=on_state,
                alternatives=site.address.alternatives,
            )
            try:
                async for item in client:
                    if isinstance(item, Snapshot):
                        if site.name is None and merged(site, item):
                            break
                        name_site(site, item.site)
                        problem = site.load(item)
                        if problem is not None:
                            sink.feed_problem(f"site {site.name}: {problem}")
                        site.finished = item.source.finished
                        site.source = item.source
                        snapshot_all()
                        report(item.source)
                        show_connection()
                    elif isinstance(item, SourceStatus):
                        site.finished = item.finished
                        site.source = item
                        report(item)
                        show_connection()
                    else:
                        assert site.name is not None  # named by its first snapshot
                        site.apply(item)
                        sink.feed_event(labelled(item, site.name), client.state.last_received_at)
            except FeedRefused as exc:
                # This hub will not take us (a wrong token, a wrong path): the others go on.
                site.refused = str(exc)
                sink.feed_problem(f"site {site.name or site.address.host_port}: {exc}")
                show_connection()
            finally:
                await client.close()

        show_connection()
        await asyncio.gather(*(follow(site) for site in sites))

    return run


def _overall(states: Iterable[ConnectionState]) -> ConnectionState:
    """The board's one state: live while any site is, finished or closed when all are."""
    found = set(states)
    if ConnectionState.LIVE in found:
        return ConnectionState.LIVE
    if found and found <= {ConnectionState.FINISHED}:
        return ConnectionState.FINISHED
    if found and found <= {ConnectionState.CLOSED, ConnectionState.FINISHED}:
        return ConnectionState.CLOSED
    if ConnectionState.RECONNECTING in found:
        return ConnectionState.RECONNECTING
    return ConnectionState.CONNECTING
