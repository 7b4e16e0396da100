"""Whether the pipes a board talks through are still there: a web session's end of life.

Under `callboard web` a board process talks to its server over two pipes (its
stdin and stdout; Textual's web driver). A server that stops cleanly tells the
board to quit; one that is killed cannot. Its board was then seen running on at
95% CPU, its input thread at end-of-file and its output going nowhere. The app
checks these pipes every few seconds (`CallboardApp`) and leaves when either has
lost its far end. `poll` with no events asked still reports a hang-up or an error,
and reads nothing, so the check takes no input away from the driver.
"""

from __future__ import annotations

import select

#: What poll reports for a pipe whose far end has gone: every writer of our input
#: closed (POLLHUP), or the reader of our output (POLLERR).
GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def pipes_gone(*fds: int) -> bool:
    """Whether any of `fds` (pipes) has lost its far end."""
    poller = select.poll()
    for fd in set(fds):
        poller.register(fd, 0)
    return any(events & GONE for _fd, events in poller.poll(0))
