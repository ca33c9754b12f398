"""The worker's view of its broker connection, for the operator: two lines per outage.

A broker restart or a network blip is something a worker rides out: its
queue library reconnects on its own. What it logs meanwhile differs (Dramatiq
a `critical` line per attempt, Celery an error per attempt, ARQ a crash), and
an alert on those would page someone for nothing. Each backend reports to one
BrokerConnection instead, which writes one warning when the connection is
lost and one info line, with the outage's length, when it is back. A broker
that stays away is then one warning, still there, and /readyz on the web side.
"""

from __future__ import annotations

import threading
import time

import structlog

log = structlog.stdlib.get_logger(__name__)


class BrokerConnection:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lost_at: float | None = None

    @property
    def lost(self) -> bool:
        return self._lost_at is not None

    def failed(self, error: object) -> None:
        """The broker did not answer; the first failure of an outage logs a warning."""
        with self._lock:
            if self._lost_at is None:
                self._lost_at = time.monotonic()
                log.warning("broker connection lost, reconnecting", error=str(error))

    def succeeded(self) -> None:
        """The broker answered; the first success after an outage logs its end."""
        if self._lost_at is None:  # the common case, without the lock
            return
        with self._lock:
            if self._lost_at is not None:
                outage = time.monotonic() - self._lost_at
                self._lost_at = None
                log.info("broker connection restored", outage_seconds=round(outage, 1))
