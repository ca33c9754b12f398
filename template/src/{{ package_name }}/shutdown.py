"""Drain on SIGTERM: report unready first, stop accepting later.

A load balancer keeps sending requests to an instance until its health check
fails. On SIGTERM we flip /readyz to 503 at once, keep serving for
SHUTDOWN_DRAIN_SECONDS so the balancer notices, and only then hand the signal
to the server, which stops accepting and finishes the requests in flight.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import structlog

from .health import Readiness

log = structlog.stdlib.get_logger(__name__)


@contextmanager
def drain_on_sigterm(readiness: Readiness, drain_seconds: float) -> Iterator[None]:
    """While active, SIGTERM marks ``readiness`` as draining before the server sees it."""
    # Signal handlers belong to the main thread; test clients run apps elsewhere.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM) or signal.SIG_DFL

    def forward() -> None:
        # Put the server's own handler (or the default action) back, and let it
        # receive the signal as if we had never been here.
        signal.signal(signal.SIGTERM, previous)
        signal.raise_signal(signal.SIGTERM)

    def start_draining() -> None:
        log.info("SIGTERM received: draining", drain_seconds=drain_seconds)
        loop.call_later(drain_seconds, forward)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # Runs between two bytecodes of the main thread: do the least possible
        # here and the rest in the event loop.
        if readiness.draining:  # a second SIGTERM: stop waiting
            loop.call_soon_threadsafe(forward)
            return
        readiness.draining = True
        loop.call_soon_threadsafe(start_draining)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)
