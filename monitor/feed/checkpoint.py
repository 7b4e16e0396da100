"""A checkpoint of the hub's state: what a restart loads instead of re-applying weeks.

A checkpoint file is one header line, then the state as one JSON document::

    {"checkpoint": 1, "hub_id": "hub-...", "seq": 5120, "length": 81234, "crc32": "1a2b3c4d"}
    {"hub_id": ..., "seq": 5120, "tracker": {...}, "position": {...}, "day": null}

`length` and `crc32` cover the body's bytes exactly, so a torn file (shorter than
its header says) and a changed one (checksum) are told apart and each is named with
its byte offset. The state is an open record (`HubCheckpoint.state`): the hub
writes what it needs (`monitor.feed.hub.Hub.checkpoint_state`) and a key this version
does not know is kept, not refused, so the hub's day state can join it later.

Written the way a file that must never be half there is: to `NAME.tmp`, fsync,
rename over `NAME`, fsync the directory. A crash leaves the old checkpoint or the
new one, never a mix; a leftover `.tmp` is ignored (and replaced next time).
Our own format rather than pickle or sqlite: it is read by a person with `head`
when a restart refuses it, and its check is the journal's own (CRC-32).
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKPOINT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message names the file and byte offset."""


@dataclass(slots=True)
class HubCheckpoint:
    """A loaded checkpoint: the hub's state right after record `seq`."""

    path: Path
    hub_id: str
    seq: int
    state: dict[str, Any]


def write_checkpoint(path: Path, hub_id: str, seq: int, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (temp file, fsync, rename, fsync the directory).

    Raises `OSError` when the disk refuses; the previous file at `path` (if any)
    is then untouched.
    """
    body = json.dumps(state, separators=(",", ":")).encode()
    header = {
        "checkpoint": CHECKPOINT_VERSION,
        "hub_id": hub_id,
        "seq": seq,
        "length": len(body),
        "crc32": f"{zlib.crc32(body):08x}",
    }
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(header).encode() + b"\n" + body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_checkpoint(path: Path) -> HubCheckpoint:
    """Load and verify a checkpoint; `CheckpointError` names what is wrong and where."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {exc}") from None
    newline = data.find(b"\n")
    header: Any = None
    if newline >= 0:
        try:
            header = json.loads(data[:newline])
        except ValueError:
            header = None
    if (
        not isinstance(header, dict)
        or header.get("checkpoint") != CHECKPOINT_VERSION
        or not isinstance(header.get("hub_id"), str)
        or not _whole(header.get("seq"))
        or not _whole(header.get("length"))
        or not isinstance(header.get("crc32"), str)
    ):
        raise CheckpointError(
            f"{path}: byte offset 0: not a callboard checkpoint (version "
            f"{CHECKPOINT_VERSION}) header"
        )
    start = newline + 1
    body = data[start:]
    length = int(header["length"])
    if len(body) != length:
        raise CheckpointError(
            f"{path}: torn: the body ends at byte offset {len(data)}, its header promises "
            f"{length} bytes from byte offset {start} (to {start + length})"
        )
    computed = f"{zlib.crc32(body):08x}"
    if computed != header["crc32"]:
        raise CheckpointError(
            f"{path}: damaged: the body from byte offset {start} to {start + length} does not "
            f"match its checksum ({header['crc32']!r} in the header, {computed} computed)"
        )
    try:
        state = json.loads(body)
    except ValueError as exc:
        where = start + getattr(exc, "pos", 0)
        raise CheckpointError(f"{path}: byte offset {where}: the body is not JSON") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: byte offset {start}: the body is not a JSON object")
    return HubCheckpoint(path, str(header["hub_id"]), int(header["seq"]), state)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
