"""What one worker process owns: its settings, a database pool sized to its jobs, a heartbeat.

Opened when the worker process starts (after any fork), on the event loop the
jobs run on, and closed when it stops, like the web app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import Database
from ..settings import Settings
from .heartbeat import Heartbeat

log = structlog.stdlib.get_logger(__name__)


class WorkerRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One connection per job that runs at once, no overflow: the capacity
        # plan counts WORKER_CONCURRENCY connections per worker process.
        pool = {"db_pool_size": settings.worker_concurrency, "db_max_overflow": 0}
        self.database = Database.from_settings(settings.model_copy(update=pool))
        self.heartbeat = Heartbeat(settings.worker_heartbeat_dir)
        self._beating: asyncio.Task[None] | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The async session factory jobs open their sessions from."""
        return self.database.sessionmaker

    async def start(self) -> None:
        self._beating = asyncio.create_task(
            self.heartbeat.run(self.settings.worker_heartbeat_interval), name="heartbeat"
        )
        log.info(
            "worker started",
            queue=self.settings.worker_queue,
            concurrency=self.settings.worker_concurrency,
        )

    async def stop(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
        await self.database.dispose()
        log.info("worker stopped")
