"""The database pool as Prometheus gauges, kept current by the pool's own events."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from ..db import Database

POOL_SIZE = Gauge("db_pool_size", "Connections each pool keeps open.", multiprocess_mode="livesum")
CHECKED_OUT = Gauge(
    "db_pool_checked_out", "Connections in use by requests.", multiprocess_mode="livesum"
)
OVERFLOW = Gauge(
    "db_pool_overflow", "Connections opened beyond the pool size.", multiprocess_mode="livesum"
)
TIMEOUTS = Counter(
    "db_pool_timeouts", "Requests that found no free connection within DB_POOL_TIMEOUT."
)


def instrument_database(database: Database) -> None:
    pool = database.engine.pool
    if not isinstance(pool, QueuePool):  # NullPool (behind PgBouncer) holds nothing
        return
    POOL_SIZE.set(pool.size())

    def update(*_: Any) -> None:
        CHECKED_OUT.set(pool.checkedout())
        OVERFLOW.set(max(0, pool.overflow()))

    for name in ("checkout", "checkin", "close", "invalidate"):
        event.listen(database.engine.sync_engine.pool, name, update)
    database.on_pool_timeout = TIMEOUTS.inc
