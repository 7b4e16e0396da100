"""Snapshot parts compressed with zlib, for the subscribers that ask (`/events?snapshot=zlib`).

Why: a board joining a big centre's day takes a snapshot of 1.6 MB of JSON (5,582
calls in progress and 601 agents: bench figure 12), and the cuts field by field are
done (bench/README.md, "A board joining a hub's day"). Many objects of the same shape
compress well. The websocket's own permessage-deflate would compress them too, but it
compresses every event frame for every subscriber as well (14% more of the hub's CPU
per subscriber: bench/README.md, "Figure 5: where the time goes"), while only the
snapshot is big. So only the snapshot's parts are compressed, and only for a client
that asks: each part's JSON text as one binary websocket message holding a complete
zlib stream (the standard library's `zlib`), each part compressed alone, so that any
part reads without the others (a part is 64 kB, twice zlib's 32 kB window: one stream
across parts gained little, bench figure 12's `stream_bytes`).

The client inflates with a bound: `zlib.decompressobj().decompress(data, limit)` stops
at the client's message limit, so a hostile hub's "zip bomb" costs the client at most
that limit in memory and is refused as a bad frame naming the limit.
"""

from __future__ import annotations

import zlib

from classifier.steps import Steps, finish
from monitor.feed.protocol import FrameError

#: The `/events` query parameter a subscriber sets to `ZLIB` to get compressed parts.
SNAPSHOT_PARAM = "snapshot"
ZLIB = "zlib"

#: zlib's level: 6 is its default, and measured in bench figure 12 (`compress_ms` at
#: levels 1, 6 and 9) the knee: level 1 leaves the parts much larger, 9 costs more
#: CPU for a few percent.
LEVEL = 6


#: Bytes of a part compressed between two steps of `compress_steps` (about 2 ms).
COMPRESS_STEP = 64 * 1024


def compress_part(text: str) -> bytes:
    """A snapshot part's text as the binary message a subscriber that asked gets."""
    return finish(compress_steps(text))


def compress_steps(text: str, step: int = COMPRESS_STEP) -> Steps[bytes]:
    """`compress_part` in steps (`classifier.steps`) of `step` bytes of text: the
    snapshot's first part holds the day, 0.64 MB of text for a big centre (25 ms
    to compress in one go). One zlib stream fed in pieces: the same bytes."""
    data = text.encode()
    if len(data) <= step:
        return zlib.compress(data, LEVEL)
    deflate = zlib.compressobj(LEVEL)
    out = []
    for start in range(0, len(data), step):
        out.append(deflate.compress(data[start : start + step]))
        yield
    out.append(deflate.flush())
    return b"".join(out)


def inflate_part(data: bytes, limit: int) -> bytes:
    """A binary snapshot part's JSON (UTF-8 bytes), never more than `limit` bytes of it.

    A part that would expand beyond `limit`, that is not zlib data, that stops before
    its end or that carries bytes after it is a `FrameError` saying which.
    """
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise FrameError(f"hub sent a binary message that is not zlib data ({exc})") from None
    # Input left over, or all of it taken with output still held back: over the limit.
    if inflater.unconsumed_tail or (not inflater.eof and len(text) >= limit):
        raise FrameError(
            f"the hub sent a message larger than this client's limit ({limit} bytes) once "
            "decompressed (a zlib snapshot part); refused by this client"
        )
    if not inflater.eof:
        raise FrameError("hub sent a zlib snapshot part that stops before its end")
    if inflater.unused_data:
        raise FrameError(
            f"hub sent a zlib snapshot part with {len(inflater.unused_data)} bytes after its end"
        )
    return text


__all__ = ["LEVEL", "SNAPSHOT_PARAM", "ZLIB", "compress_part", "compress_steps", "inflate_part"]
