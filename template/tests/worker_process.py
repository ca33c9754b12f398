"""A real worker process for tests: `python -m <package>.workers`, its log, and signals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

# Generous: a busy CI machine starts Python slowly; nothing waits this long when all is well.
DEADLINE_SECONDS = 90.0


class WorkerProcess:
    def __init__(self, package: str, env: dict[str, str], log: Path) -> None:
        self.package = package
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", f"{self.package}.workers"],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: a signal reaches every process the worker forked.
                start_new_session=True,
            )
        return self

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far."""
        lines = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def unstructured(self) -> list[str]:
        """The lines written so far that are not JSON: an operator's parser chokes on each."""
        unparsed = []
        for line in self.log.read_text().splitlines():
            try:
                json.loads(line)
            except ValueError:
                unparsed.append(line)
        return unparsed

    async def wait_for(self, event: str, **fields: Any) -> dict[str, Any]:
        """The first log line with ``event`` (and ``fields``), once the worker has written it."""
        (line,) = await self.wait_for_lines(event, 1, **fields)
        return line

    async def wait_for_lines(self, event: str, count: int, **fields: Any) -> list[dict[str, Any]]:
        """The first ``count`` log lines with ``event`` (and ``fields``), once all are written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_SECONDS
        while loop.time() < deadline:
            found = [
                line
                for line in self.lines()
                if line.get("event") == event and fields.items() <= line.items()
            ]
            if len(found) >= count:
                return found[:count]
            if self.process is not None and self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker never logged {count} x {event!r}:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no chance to finish or hand anything back."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    async def terminate(self) -> int:
        """SIGTERM, as a deploy stops it; the worker's exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, DEADLINE_SECONDS)
