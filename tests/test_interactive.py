"""`copier copy` at a terminal: a real interactive run, driven through a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# What a terminal interprets rather than shows: CSI and OSC sequences, mode switches.
ESCAPES = re.compile(
    rb"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>()][A-Z0-9]?|\r"
)


class Terminal:
    """A program on a pseudo-terminal: type into it, wait for what it shows."""

    def __init__(self, *command: str, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        # Wide enough that no prompt wraps: lines are matched whole.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "50"}
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True
        )
        os.close(slave)
        self.raw = b""
        self.screen = ""
        self.seen = 0

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait until ``pattern`` shows after what was matched before; the text up to it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # the program exited
                    break
                self.screen = ESCAPES.sub(b"", self.raw).decode(errors="replace")
            if match := re.search(pattern, self.screen[self.seen :]):
                shown = self.screen[self.seen : self.seen + match.end()]
                self.seen += match.end()
                return shown
        pytest.fail(f"{pattern!r} never showed; the terminal shows:\n{self.screen[-3000:]}")

    def prompt(self, question: str, default: str) -> None:
        """Wait for the prompt whose help starts with ``question``, showing ``default``."""
        self.expect(re.escape(question))
        self.expect(re.escape(default))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def copier_at_a_terminal(copier_template: Path, tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(
        sys.executable,
        *("-m", "copier", "copy", "--trust", "--vcs-ref", "HEAD"),
        *(str(copier_template), str(tmp_path / "svc")),
        cwd=tmp_path,
    )
    yield terminal
    terminal.close()


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("X", "svc-x", "svc_x"),
        ("123 API", "svc-123-api", "svc_123_api"),
        ("日本", "wgv71a", "wgv71a"),
    ],
)
def test_any_project_name_reaches_the_slug_prompt(
    copier_at_a_terminal: Terminal, name: str, slug: str, package: str
) -> None:
    """One letter, a leading digit or another script: the next prompts come, with valid defaults."""
    terminal = copier_at_a_terminal
    terminal.expect("Human-readable name of the service")
    terminal.type(name + "\r")
    terminal.prompt("Slug for the image", slug)
    terminal.type("\r")
    terminal.prompt("Python import name", package)


def test_a_bad_slug_is_refused_at_its_prompt_with_the_rule_it_breaks(
    copier_at_a_terminal: Terminal,
) -> None:
    terminal = copier_at_a_terminal
    terminal.expect("Human-readable name of the service")
    terminal.type("Orders API\r")
    terminal.prompt("Slug for the image", "orders-api")
    # Replace the default with one character: refused, and asked again.
    terminal.type("\x7f" * len("orders-api") + "x\r")
    terminal.expect("'x' is not a valid slug: it must have at least 2 characters")
    terminal.type("\x7fxy\r")
    terminal.prompt("Python import name", "xy")
