"""Textual's Linux terminal driver, reading keys without waking ten times a second.

Textual's driver reads the terminal in a thread that waits at most 0.1 s at a
time, so that it can time out an escape sequence (a lone Esc key looks like the
start of one) and notice that the app is closing. A wall screen nobody types at
pays for those ten wake-ups a second all day: about a tenth of a per cent of a
core, a tenth of what a quiet board costs in all.

This driver's reader waits only as long as the key parser has something to time
out, and otherwise until a key arrives or the app closes: closing sets the
driver's exit event, which here also writes to a pipe the reader waits on. The
keys, the parser and everything else are Textual's own.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

#: How long the reader waits when it cannot tell whether the parser waits for more
#: (Textual's own interval).
POLL_S = 0.1
_UNKNOWN = object()


class _WakingEvent(threading.Event):
    """An event that, when set, also wakes a thread waiting on a pipe."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        # Closed, or the pipe full: the reader is awake either way.
        with contextlib.suppress(OSError):
            os.write(self._wake_fd, b"x")


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread sleeps until there is input or work to time out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.exit_event = _WakingEvent(self._wake_write)

    def _wait_s(self, parser: XTermParser) -> float | None:
        """How long the reader may wait for input: until the parser's timeout, if any."""
        timeout_at = getattr(parser, "_timeout_time", _UNKNOWN)
        if timeout_at is None:
            return None
        if not isinstance(timeout_at, float | int):
            return POLL_S  # another Textual's parser: poll as Textual does
        return max(0.0, timeout_at - get_time())

    def run_input_thread(self) -> None:
        """Read the terminal and post what the parser makes of it, until the app closes."""
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                for key, _ in selector.select(self._wait_s(parser)):
                    if key.fd == self._wake_read:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_read, 512)
                        continue
                    text = decode(os.read(self.fileno, 4096))
                    if not text:
                        break  # end of input (a pipe, or the terminal gone), as Textual does
                    for message in parser.feed(text):
                        self.process_message(message)
                for message in parser.tick():
                    self.process_message(message)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def close(self) -> None:
        super().close()
        if self._key_thread is not None and self._key_thread.is_alive():
            return  # still reading: the pipe goes with the process
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
