"""What `serve --nats` is given: the NATS servers, credentials, the stream's retention.

Apart from `monitor.feed.nats_store` (which imports nats-py) so that building the
command line and importing the hub load no NATS client: `callboard` starts every
command by building every parser (see tests/test_hooks_receiver.py's import check).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.sources.progress import FIRST_AFTER

#: The environment variables `--nats` reads credentials from (never the command line).
USER_ENV = "CALLBOARD_NATS_USER"
PASSWORD_ENV = "CALLBOARD_NATS_PASSWORD"
TOKEN_ENV = "CALLBOARD_NATS_TOKEN"

#: Header carrying a replayed event's position in its log.
POS_HEADER = "Callboard-Pos"
MSG_ID_HEADER = "Nats-Msg-Id"
CHECKPOINT_KEY = "checkpoint"
HUB_ID_KEY = "hub_id"

#: Seconds JetStream remembers a message id: a retry within it is stored once. The
#: hub retries a publish for as long as it is down, so this must outlast an outage
#: we ride through; an event retried later than this could be stored twice, and is
#: then refused by every hub's tracker as a duplicate (docs/scaling.md).
DUPLICATE_WINDOW_S = 3600.0


class NatsUnavailable(Exception):
    """NATS cannot be reached or refused us; the message says which server and why."""


@dataclass(frozen=True, slots=True)
class NatsConfig:
    """How a hub reaches NATS and what its stream keeps (`callboard serve --nats ...`)."""

    #: One URL or several, comma-separated (`nats://`, `tls://`).
    url: str
    creds: Path | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    #: A CA bundle the server's certificate must chain to (tls:// URLs).
    ca: Path | None = None
    #: Days the stream keeps (max_age); None keeps without an age limit.
    keep_days: int | None = 7
    #: Bytes the stream keeps (max_bytes); None: no limit.
    max_bytes: int | None = None
    #: Copies of the stream in a cluster (1 on a single server).
    replicas: int = 1
    #: Events a hub holds waiting for NATS before it refuses producers `unavailable`.
    buffer: int = 1_000
    #: Stream messages between two checkpoints (a new day also writes one).
    checkpoint_every: int = 10_000
    #: While a starting hub reads the stream (its rebuild), at least this many seconds
    #: between two checkpoints: taking one holds up the reading (docs/scaling.md).
    rebuild_checkpoint_s: float = 5.0
    #: The rebuild's progress lines (`monitor.sources.progress.Cadence`): the first
    #: after this many seconds, then every `progress_every` (None: by stderr's kind).
    progress_first: float = FIRST_AFTER
    progress_every: float | None = None
    connect_timeout: float = 5.0
    #: Seconds one publish waits for JetStream's acknowledgement before it is retried.
    publish_timeout: float = 2.0
    #: Seconds one request to the checkpoint bucket waits for its answer (nats-py's
    #: default); a whole save waits as long per part, plus once for its manifest.
    bucket_timeout: float = 5.0
    #: A board's hub (`callboard watch nats://... --sites`, `monitor.app.nats_sites`):
    #: reads the site's stream and checkpoint, never creates, changes or writes either.
    viewer: bool = False

    @property
    def servers(self) -> list[str]:
        """The server URLs nats-py tries, in order."""
        return [part.strip() for part in self.url.split(",") if part.strip()]


def subject_for(site: str) -> str:
    """The subject a site's events are published on."""
    return f"callboard.{site}.events"


def stream_for(site: str) -> str:
    """The stream that keeps a site's events."""
    return f"CALLBOARD_{site}"


def bucket_for(site: str) -> str:
    """The key-value bucket that keeps a site's checkpoint and hub id."""
    return f"callboard_{site}_checkpoint"
