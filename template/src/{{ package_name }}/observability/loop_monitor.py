"""How late the event loop runs, and who blocks it.

A task sleeps for a short interval and measures how much later than asked it
woke up: that lag is what every request on this process waited too. A watchdog
thread watches the task's heartbeat; when the loop has not come back for
LOOP_BLOCK_THRESHOLD seconds, it logs one warning with the stack of the code
that holds the loop (a blocking call inside an async function, CPU work).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from collections.abc import Callable

import structlog

log = structlog.stdlib.get_logger(__name__)


class LoopMonitor:
    def __init__(
        self,
        interval: float,
        block_threshold: float,
        on_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.interval = interval
        self.block_threshold = block_threshold
        self.on_lag = on_lag
        self._heartbeat = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._stopped = threading.Event()
        self._watchdog: threading.Thread | None = None

    async def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._heartbeat = time.monotonic()
        self._task = asyncio.create_task(self._measure(), name="loop-monitor")
        self._watchdog = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._watchdog.start()

    async def stop(self) -> None:
        self._stopped.set()
        if self._task is not None:
            self._task.cancel()
        if self._watchdog is not None:
            # The watchdog wakes within a poll; joining it here would block the loop meanwhile.
            await asyncio.to_thread(self._watchdog.join, 1)

    async def _measure(self) -> None:
        while True:
            expected = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self._heartbeat = now
            if self.on_lag is not None:
                self.on_lag(max(0.0, now - expected))

    def _watch(self) -> None:
        reported = False  # one warning per blocking episode
        poll = min(self.interval, self.block_threshold) / 4
        while not self._stopped.wait(poll):
            beat = self._heartbeat
            stalled = time.monotonic() - beat - self.interval
            if stalled < self.block_threshold:
                reported = False
                continue
            if reported:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            stack = "".join(traceback.format_stack(frame)) if frame else "(no stack)"
            if self._heartbeat != beat:
                continue  # the loop came back while we looked: not the culprit's stack
            reported = True
            log.warning(
                "event loop blocked",
                blocked_for_seconds=round(stalled, 3),
                threshold_seconds=self.block_threshold,
                stack=stack,
            )
