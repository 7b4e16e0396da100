"""A scripted FreeSWITCH event socket on loopback, and the documentation's events as wire text.

FreeSWITCH cannot run here, so `ScriptedEsl` plays its inbound event socket over a
real TCP connection, speaking the protocol as mod_event_socket does: `auth/request`,
`command/reply` to `auth` (+OK accepted or -ERR invalid) and to `event plain ...`,
`api/response` to `api` commands, and events as `text/event-plain` frames with a
`Content-Length` and URL-encoded values. The events are the 10 examples of the
"Events" section of mod_callcenter's documentation in ../shared/realdata/freeswitch,
read from that file (`doc_events`); `callcenter_event` takes one as the template of
a call's event, with the call's own member UUID and times (the documentation's times
are placeholders, 9000 to 10500 seconds after 1970).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote

from bench.esl_ingest import DOC, doc_events
from tests.hub_support import DEADLINE

#: The documentation's placeholder epoch that our base time stands for.
DOC_T0 = 9000
#: The time the documentation's 9000 stands for: ten minutes before the tests start,
#: so the hub's live time checks and call expiry see the calls as the PBX's own
#: clock would date them (the re-sync's lists are dated by the hub's clock).
BASE = int(time.time()) - 600


def doc_event(action: str, cause: str | None = None) -> dict[str, str]:
    """The documentation's example for `action` (for member-queue-end: the one with CC-Cause)."""
    for event in doc_events():
        if event.get("CC-Action") != action:
            continue
        if cause is not None and event.get("CC-Cause") != cause:
            continue
        return dict(event)
    raise AssertionError(f"no {action} {cause or ''} example in {DOC}")


def callcenter_event(
    action: str,
    member: str,
    at: int,
    *,
    cause: str | None = None,
    **overrides: str,
) -> dict[str, str]:
    """The documentation's `action` example as the event of call `member` at `at`.

    `at` is seconds after BASE. The example's CC-*-Time placeholders keep their offsets
    from 9000 on our day; Event-Date-Timestamp (µs), which every real event carries and
    the examples leave out, is BASE + at. `overrides` are headers with '_' for '-'.
    """
    event = doc_event(action, cause)
    for key, value in list(event.items()):
        if key.endswith("-Time") and value.isdigit():
            event[key] = str(BASE + int(value) - DOC_T0)
    if "CC-Member-UUID" in event:
        event["CC-Member-UUID"] = member
    event["Event-Date-Timestamp"] = str((BASE + at) * 1_000_000)
    for key, value in overrides.items():
        event[key.replace("_", "-")] = value
    return event


def event_frame(headers: dict[str, str]) -> bytes:
    """One `text/event-plain` frame: URL-encoded values, the body's length in Content-Length."""
    body = "".join(f"{k}: {quote(v, safe='')}\n" for k, v in headers.items()) + "\n"
    data = body.encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


def api_frame(text: str) -> bytes:
    data = text.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


MEMBER_COLUMNS = (
    "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
    "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
    "serving_system|state|score"
)
AGENT_COLUMNS = (
    "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
    "reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|"
    "last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|"
    "talk_time|ready_time|external_calls_count"
)


def member_list(*rows: dict[str, str]) -> str:
    """`callcenter_config member list` as mod_callcenter prints it: header, rows, +OK."""
    names = MEMBER_COLUMNS.split("|")
    lines = [MEMBER_COLUMNS] + ["|".join(row.get(n, "") for n in names) for row in rows]
    return "\n".join(lines) + "\n+OK\n"


def agent_list(*rows: dict[str, str]) -> str:
    names = AGENT_COLUMNS.split("|")
    lines = [AGENT_COLUMNS] + ["|".join(row.get(n, "") for n in names) for row in rows]
    return "\n".join(lines) + "\n+OK\n"


@dataclass
class Session:
    """What one connection plays after the subscription.

    `frames`: raw bytes sent in order (events, or broken frames on purpose); then
    `end`: "stay" (keep answering), "drop" (close the connection) or "stall" (answer
    nothing more, keep the socket open).
    """

    frames: list[bytes] = field(default_factory=list)
    members: str = member_list()
    agents: str = agent_list()
    end: str = "stay"
    #: Seconds between two frames (0: all at once).
    gap: float = 0.0


class ScriptedEsl:
    """mod_event_socket's inbound side on 127.0.0.1, one `Session` per connection in turn.

    Each connection that subscribes takes the next session; one past the last gets the
    last one's lists and no frames. Every
    command received is kept in `commands` (the password as sent, to check it).
    """

    def __init__(
        self, password: str, sessions: list[Session], refuse: frozenset[int] = frozenset()
    ) -> None:
        """`refuse`: the connections (counted from 0) whose right password is refused
        all the same, as after the password was changed on the PBX and changed back."""
        self.password = password
        self.sessions = sessions
        self.refuse = refuse
        self.commands: list[str] = []
        self.connections = 0
        self.logins = 0
        self.subscriptions = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> ScriptedEsl:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def cut(self) -> None:
        """Close every connection now, as a network failure or a FreeSWITCH restart would."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _next_session(self) -> Session:
        # Only sessions that subscribe take a script: a login check (serve's at start)
        # logs in and leaves, and the script is for the connection that stays.
        index = self.subscriptions
        if index < len(self.sessions):
            return self.sessions[index]
        last = self.sessions[-1]
        return Session(members=last.members, agents=last.agents, end="stay")

    async def _command(self, reader: asyncio.StreamReader) -> str | None:
        lines: list[str] = []
        while True:
            raw = await reader.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\r\n")
            if not line:
                if lines:
                    return "\n".join(lines)
                continue
            lines.append(line)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        index = self.connections
        self.connections += 1
        session = self._next_session()
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            writer.write(b"Content-Type: auth/request\n\n")
            command = await self._command(reader)
            if command is None:
                return
            self.commands.append(command)
            if command != f"auth {self.password}" or index in self.refuse:
                writer.write(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
                writer.write(b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
                await writer.drain()
                writer.close()
                return
            self.logins += 1
            writer.write(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
            played = subscribed = False
            while True:
                command = await self._command(reader)
                if command is None:
                    return
                self.commands.append(command)
                if session.end == "stall" and played:
                    continue
                if command.startswith("event "):
                    if not subscribed:
                        session = self._next_session()
                        self.subscriptions += 1
                        subscribed = True
                    format_ = command.split()[1]
                    writer.write(
                        b"Content-Type: command/reply\nReply-Text: +OK event listener "
                        b"enabled %s\n\n" % format_.encode()
                    )
                elif command == "api callcenter_config member list":
                    writer.write(api_frame(session.members))
                elif command == "api callcenter_config agent list":
                    writer.write(api_frame(session.agents))
                    # The lists answered: play the session's frames.
                    for frame in session.frames:
                        writer.write(frame)
                        await writer.drain()
                        if session.gap:
                            await asyncio.sleep(session.gap)
                    played = True
                    if session.end == "drop":
                        writer.close()
                        return
                elif command == "api status":
                    writer.write(api_frame("UP 0 years, 0 days\nFreeSWITCH is ready\n"))
                else:
                    writer.write(
                        b"Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"
                    )
                await writer.drain()


@contextlib.asynccontextmanager
async def scripted_esl(
    password: str, sessions: list[Session], refuse: frozenset[int] = frozenset()
) -> AsyncIterator[ScriptedEsl]:
    """A started `ScriptedEsl`, stopped when the block ends."""
    server = await ScriptedEsl(password, sessions, refuse).start()
    try:
        yield server
    finally:
        await server.stop()


class ThreadedEsl:
    """A `ScriptedEsl` on an event loop of its own thread, for tests that run
    `callboard serve` as a subprocess and wait for it without an event loop."""

    def __init__(self, password: str, sessions: list[Session]) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ScriptedEsl(password, sessions)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ScriptedEsl:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(DEADLINE)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(DEADLINE)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(DEADLINE)
        self.loop.close()

    def cut(self) -> None:
        """`ScriptedEsl.cut` from another thread."""
        self.loop.call_soon_threadsafe(self.server.cut)
