"""The Asterisk Manager Interface's text protocol: lines in, `Key: Value` blocks out.

AMI (docs: "AMI v2 Specification") is a banner line (``Asterisk Call Manager/5.0.1``),
then messages: blocks of ``Key: Value`` lines, CRLF-terminated, each block ended by
an empty line. Events carry ``Event:``, answers to actions ``Response:``. One
splitter serves both the live client (`monitor.sources.ami_client`) and recorded
sessions (`monitor.sources.asterisk_ami`), so a recording and a live PBX are read by
exactly the same code.

Written here rather than taken from panoramisk: the splitter must also read recorded
sessions (files, not sockets), count the lines that are not ``Key: Value`` (the
banner, the CLI's ``manager set debug on`` output pasted into a capture) instead of
dropping them silently, and bound what one message may cost (`MAX_KEYS`,
`MAX_VALUE`): a PBX sending a 1 MB value costs a counted problem, not a megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Longest value kept whole; longer ones are cut to this and the block is flagged.
MAX_VALUE = 4096
#: Most keys one block may hold; the rest of a longer block is counted, not kept.
MAX_KEYS = 256

Block = dict[str, str]


@dataclass(slots=True)
class BlockSplitter:
    """Feeds of single lines (line end stripped or not) in; complete blocks out.

    `feed` returns the block a blank line completes, else None. Problems of the
    current block (an oversized value, too many keys) are in `flaws` when it is
    returned; lines outside any ``Key: Value`` shape are counted in `stray` (with
    the first few kept in `stray_samples` for the report).
    """

    keys: Block = field(default_factory=dict)
    flaws: list[str] = field(default_factory=list)
    stray: int = 0
    stray_samples: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Block | None:
        """One line; the finished block when `line` is the blank line that ends it."""
        key, sep, value = line.partition(": ")
        # The common line, `Key: Value` of a bounded message: one partition, no copies.
        if (
            sep
            and key
            and len(key) <= 64
            and " " not in key
            and not self.flaws
            and len(value) <= MAX_VALUE + 2
            and len(self.keys) < MAX_KEYS
        ):
            self.keys[key] = value.rstrip("\r\n")
            return None
        return self._slow(line)

    def _slow(self, line: str) -> Block | None:
        text = line.rstrip("\r\n")
        if not text.strip():
            return self.finish()
        key, sep, value = text.partition(":")
        if not sep or not key or len(key) > 64 or " " in key.strip():
            # The banner, a CLI debug line, a response's free-text follow-up: not a header.
            self.stray += 1
            if len(self.stray_samples) < 3:
                self.stray_samples.append(text[:80])
            return None
        if not self.keys:
            self.flaws = []
        if len(value) > MAX_VALUE + 1:
            if len(self.flaws) < 8:
                self.flaws.append(f"value of {key.strip()[:40]} is {len(value) - 1} bytes")
            value = value[: MAX_VALUE + 1]
        if len(self.keys) >= MAX_KEYS:
            flaw = f"more than {MAX_KEYS} keys"
            if flaw not in self.flaws:
                self.flaws.append(flaw)
            return None
        # "Key: Value": one space after the colon belongs to the syntax, not the value.
        self.keys[key.strip()] = value[1:] if value.startswith(" ") else value
        return None

    def finish(self) -> Block | None:
        """The block being built (at a blank line or the end of input), None if empty."""
        if not self.keys:
            return None
        block, self.keys = self.keys, {}
        return block


def encode(block: Block) -> bytes:
    """One message as wire text: ``Key: Value`` lines in CRLF, a blank line after."""
    return "".join(f"{k}: {v}\r\n" for k, v in block.items()).encode() + b"\r\n"
