"""Figure 7: what a browser session of `callboard web` costs: bytes per second, CPU, memory.

`callboard web watch URL` serves a real hub; 1 and then 3 sessions open the page's
websocket at 213x60 cells (what Chromium's page asks for in a 1920x1080 window,
measured by tests/test_web_browser.py's browser) while a feeder publishes a steady
`bandwidth_rate` events per second. Counted: every byte the server sends each
session, the CPU of the server and of each session's board process (/proc), and
each board's resident memory. The same-run baseline is the terminal board
(`callboard watch`, local repaint rate) on a real pty of 200x60 at the same rate:
the bytes a terminal session carries for the same feed.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp

from bench.eventlog import generate, warmup_events
from bench.feeder import feeder_command
from bench.hubproc import HubProcess
from bench.process import PYTHON, callboard, cpu_share, sample
from bench.pty_board import LOCAL, run_in_pty
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "web"
TITLE = "8. browser sessions (callboard web)"
#: Cells of the page in a 1920x1080 Chromium window (textual-serve's 16 px font).
BROWSER_CELLS = (213, 60)
TERMINAL_CELLS = (200, 60)
OPEN_CALLS = 300
SERVING = re.compile(r"on (http://\S+/) ")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _subscribers(hub: HubProcess) -> int:
    with urllib.request.urlopen(hub.base_url.replace("ws://", "http://") + "/health") as reply:
        data: dict[str, Any] = json.load(reply)
    return int(data["subscribers"])


async def _sessions(
    url: str,
    server_pid: int,
    hub: HubProcess,
    count: int,
    rate: float,
    seconds: float,
    warmup: float,
    skip: int,
) -> dict[str, Any]:
    """Open `count` sessions, feed `rate` ev/s for `seconds`: bytes, CPU and memory measured."""
    received = [0] * count
    ws_url = "ws" + url.removeprefix("http") + "ws?width={}&height={}".format(*BROWSER_CELLS)
    async with aiohttp.ClientSession() as client:
        sockets = [await client.ws_connect(ws_url, max_msg_size=0) for _ in range(count)]

        async def drain(index: int, socket: aiohttp.ClientWebSocketResponse) -> None:
            async for message in socket:
                if message.type is aiohttp.WSMsgType.BINARY:
                    received[index] += len(message.data)

        readers = [asyncio.create_task(drain(i, s)) for i, s in enumerate(sockets)]
        deadline = time.monotonic() + 60
        while _subscribers(hub) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the sessions' boards never subscribed to the hub")
            await asyncio.sleep(0.1)
        await asyncio.sleep(warmup)
        feeder = await asyncio.create_subprocess_exec(
            *feeder_command(PYTHON, hub.publish_url, rate, seconds, OPEN_CALLS, 7, skip),
            stdout=subprocess.PIPE,
        )
        assert feeder.stdout is not None
        if (await feeder.stdout.readline()).strip() != b"ready":
            raise RuntimeError("feeder did not start")
        return await _measured(server_pid, feeder, received, sockets, readers)


async def _measured(
    server_pid: int,
    feeder: asyncio.subprocess.Process,
    received: list[int],
    sockets: list[aiohttp.ClientWebSocketResponse],
    readers: list[asyncio.Task[None]],
) -> dict[str, Any]:
    boards = _children(server_pid)
    before = {pid: sample(pid) for pid in [server_pid, *boards]}
    bytes_before, started = sum(received), time.perf_counter()
    assert feeder.stdout is not None
    summary = json.loads(await feeder.stdout.readline())
    await feeder.wait()
    after = {pid: sample(pid) for pid in before}
    elapsed = time.perf_counter() - started
    sent = sum(received) - bytes_before
    for socket in sockets:
        await socket.close()
    for reader in readers:
        reader.cancel()
    shares = {}
    for pid, first in before.items():
        last = after[pid]
        if first is None or last is None:
            raise RuntimeError(f"process {pid} ended during the measurement")
        shares[pid] = (cpu_share(first, last), last.rss_mb)
    board_shares = [shares[pid] for pid in boards]
    return {
        "sessions": len(sockets),
        "bytes_per_s_per_session": sent / elapsed / len(sockets),
        "server_cpu_share": shares[server_pid][0],
        "board_cpu_share": sum(s for s, _ in board_shares) / max(1, len(board_shares)),
        "board_rss_mb": max((m for _, m in board_shares), default=0.0),
        "server_rss_mb": shares[server_pid][1],
        "published": int(summary["acked"]),
        "boards": len(boards),
    }


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Per browser session: bytes/s sent, CPU of the server and the board, board memory."""
    figure = Figure(KEY, TITLE)
    rate, seconds = scale.bandwidth_rate, scale.bandwidth_seconds
    prefill = warmup_events(OPEN_CALLS, 7)
    runs: list[dict[str, Any]] = []
    with HubProcess("--queue-limit", "1000000") as hub:
        asyncio.run(publish(hub.publish_url, wire_lines(generate(prefill, OPEN_CALLS, 7))))
        published = prefill
        terminal = run_in_pty(
            LOCAL,
            callboard("watch", hub.events_url),
            hub,
            *TERMINAL_CELLS,
            rate,
            seconds,
            OPEN_CALLS,
            skip=published,
            seed=7,
            warmup=scale.warmup_seconds,
        )
        published += terminal.published
        server = subprocess.Popen(
            [*callboard("web", "--port", "0", "watch", hub.events_url)],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stderr is not None
            found = SERVING.search(server.stderr.readline())
            if found is None:
                raise RuntimeError("callboard web did not start")
            for count in (1,) if scale.smoke else (1, 3):
                result = asyncio.run(
                    _sessions(
                        found.group(1),
                        server.pid,
                        hub,
                        count,
                        rate,
                        seconds,
                        scale.warmup_seconds,
                        published,
                    )
                )
                published += result["published"]
                runs.append(result)
                print(f"  web, {count} session(s): {result}", file=sys.stderr)
                # The closed sessions' boards end before the next count starts.
                deadline = time.monotonic() + 30
                while _children(server.pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(30)
    columns, rows = BROWSER_CELLS
    for result in runs:
        count = result["sessions"]
        figure.add(
            Measure(
                f"{columns}x{rows} page at {rate} ev/s, {count} session(s): bytes per session",
                result["bytes_per_s_per_session"] / 1000,
                "kB/s",
                baseline=terminal.bytes_per_s / 1000,
                baseline_name=f"terminal board {TERMINAL_CELLS[0]}x{TERMINAL_CELLS[1]}",
                ratio=ratio(result["bytes_per_s_per_session"], terminal.bytes_per_s),
            )
        )
        figure.add(
            Measure(
                f"{count} session(s): board process CPU per session",
                result["board_cpu_share"] * 100,
                "% core",
                baseline=terminal.cpu_share * 100,
                baseline_name="terminal board",
                ratio=ratio(result["board_cpu_share"], terminal.cpu_share),
            )
        )
        figure.add(
            Measure(
                f"{count} session(s): server CPU per session",
                result["server_cpu_share"] * 100 / count,
                "% core",
            )
        )
        figure.add(
            Measure(
                f"{count} session(s): memory per session (board RSS)",
                result["board_rss_mb"],
                "MB",
                baseline=terminal.rss_mb,
                baseline_name="terminal board",
                ratio=ratio(result["board_rss_mb"], terminal.rss_mb),
            )
        )
    figure.details = {"runs": runs, "terminal": asdict(terminal), "cells": BROWSER_CELLS}
    return figure
