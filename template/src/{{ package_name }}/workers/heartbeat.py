"""Liveness of worker processes: each one touches a file, a probe checks their age.

A worker process writes `<WORKER_HEARTBEAT_DIR>/<pid>` every
WORKER_HEARTBEAT_INTERVAL seconds from its event loop, so a stuck loop stops the
beat as surely as a dead process. `python -m <package>.workers.heartbeat` (a
Kubernetes exec probe, a systemd timer, a monitoring agent) exits 0 while every
live worker process on this host has beaten within WORKER_HEARTBEAT_MAX_AGE, and
1 with one line on stderr otherwise. Files of processes that no longer exist
are ignored and cleaned up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

from ..settings import Settings


class Heartbeat:
    """The heartbeat file of the current process."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / str(os.getpid())

    def beat(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    async def run(self, interval: float) -> None:
        """Beat until cancelled; runs on the worker's event loop."""
        # The file is written in a thread, so a slow disk never stalls the jobs;
        # the loop still schedules each beat, so a stuck loop stops them all the same.
        try:
            while True:
                await asyncio.to_thread(self.beat)
                await asyncio.sleep(interval)
        finally:
            await asyncio.to_thread(self.remove)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def check(directory: Path, max_age: float, now: float | None = None) -> str | None:
    """Why the workers here are not live, or None when every one has a fresh beat."""
    now = time.time() if now is None else now
    beats = sorted(directory.glob("[0-9]*")) if directory.is_dir() else []
    live = 0
    for path in beats:
        if not path.name.isdigit():
            continue
        if not _alive(int(path.name)):
            with contextlib.suppress(OSError):
                path.unlink()  # left behind by a killed process
            continue
        with contextlib.suppress(FileNotFoundError):
            age = now - path.stat().st_mtime
            if age > max_age:
                return f"worker process {path.name} last beat {age:.0f} s ago (max {max_age:.0f} s)"
            live += 1
    if live == 0:
        return f"no live worker process has a heartbeat in {directory}"
    return None


def main() -> int:
    settings = Settings()
    problem = check(settings.worker_heartbeat_dir, settings.worker_heartbeat_max_age)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
