"""Processes of a rendered project that tests start and must never leave behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from .conftest import Project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def started(
    project: Project, command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[str]]:
    """``command`` in the project, output to ``log``; killed with its children at the end.

    Its own process group, so teardown reaches a server's forked workers too.
    """
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=project.path,
            env={**project.env, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
