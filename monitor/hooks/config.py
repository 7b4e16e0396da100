"""The webhook receiver's configuration, apart from the server so that option parsing stays light.

Every `callboard` command builds serve's parser (`monitor.cli`), which takes its
defaults from `HooksConfig`; importing the server for that would load aiohttp and
twilio into every command, a third of a second each time.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

#: Deliveries waiting to be applied before new ones get 503; at a few events each
#: this is well under a megabyte, and far more than a second of the fastest flood.
MAX_PENDING = 10_000

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    """True for a loopback address or name (what the receiver may bind without a key)."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class HooksConfig:
    """Everything `callboard serve --hooks` sets for the receiver."""

    host: str = "127.0.0.1"
    #: 0 picks a free port (read it back from `HookReceiver.port`).
    port: int = 8780
    #: The hooks key every route needs (``?key=`` or basic auth); None only on loopback.
    key: str | None = None
    #: The URL vendors are given for this receiver (scheme, host, port and any path
    #: prefix a proxy adds), without a trailing slash: Twilio signs that URL.
    public_url: str | None = None
    twilio_token: str | None = None
    amazon_secret: str | None = None
    #: Largest body accepted (bytes); larger ones get 413.
    max_body: int = 64 * 1024
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_pending: int = MAX_PENDING
    #: Seconds a Twilio Voice final callback's end waits for its task's events
    #: (`monitor.sources.twilio.FINAL_GRACE_S`; a constant, not an option: tests set it).
    twilio_grace: float = 10.0

    def problem(self) -> str | None:
        """Why the receiver must not start with this configuration, or None."""
        if self.key is None and not is_loopback(self.host):
            return (
                f"--hooks on {self.host} needs a hooks key ($CALLBOARD_HOOKS_KEY or "
                "--hooks-key-file): without one, anyone who reaches it could post calls"
            )
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            return f"--hooks-public-url must start with http:// or https://: {self.public_url!r}"
        return None
