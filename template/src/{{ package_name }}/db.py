"""The async engine, its pool, and the per-request session.

One engine per process, created in the lifespan (after any fork) and reached
through the session dependency, never through a module global. Every pool knob
is explicit and comes from Settings, whose defaults come from the capacity plan.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import structlog
from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event, exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.types import TypeEngine

from . import dialect
from .errors import ServiceUnavailableError, describe
from .pool import FairAsyncPool
from .settings import Settings

if TYPE_CHECKING:
    # Alembic is imported only where the schema is checked (lifespan.py).
    from .schema_version import SchemaVersion

log = structlog.stdlib.get_logger(__name__)

# Deterministic constraint names, so Alembic can alter and drop them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite and MySQL store them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            # MySQL's DATETIME drops microseconds unless asked to keep them.
            # Imported here, so other databases' cold starts do not pay for it.
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # What requests that only read connect through (ReadConnectionDep).
    reader: AsyncEngine
    settings: Settings
    # Requests that found no free connection within DB_POOL_TIMEOUT.
    pool_timeouts: int = 0
    # Called on each such timeout; the metrics, when enabled, count them.
    on_pool_timeout: Callable[[], None] | None = None
    # When the database last answered a statement, and when a request last
    # found it unavailable (time.monotonic()).
    answered_at: float = -math.inf
    failed_at: float = -math.inf
    # What /readyz compares the database's migrations with; the lifespan sets
    # it (a worker's Database has no /readyz).
    schema: SchemaVersion | None = None
    _schema_check: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        # expire_on_commit=False: attributes stay loaded after commit, so
        # responses can be built without an implicit (async-illegal) refresh.
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        # The same pool; each read statement may commit on its own (dialect.py says where).
        isolation = dialect.read_isolation_level(settings)
        reader = engine.execution_options(isolation_level=isolation) if isolation else engine
        database = cls(engine, sessions, reader, settings)
        # One clock read per statement: what lets /readyz see a busy pool as busy.
        event.listen(engine.sync_engine, "after_cursor_execute", database._answered)
        return database

    def _answered(self, *_: object) -> None:
        self.answered_at = time.monotonic()

    async def ping(self) -> dict[str, Any]:
        """/readyz's check: the database answers, and the pool's state.

        A statement that succeeded within READINESS_TIMEOUT, with no failure
        since, is the answer: a pool that every request is using is busy, not
        broken, and a probe queueing behind those requests would call it broken.
        Only without one does the probe ask the database itself. Until the
        schema has been found current, the check also asks which migrations
        ran, on a connection of its own: a pool busy with requests (a
        gunicorn worker gets them before its first probe) must not hold it up.
        """
        await dialect.check_storage(self.settings)
        if self.schema is not None and self.schema.state is None:
            # One check at a time, shielded: a probe that gives up at
            # READINESS_TIMEOUT leaves it running for the next one to use.
            if self._schema_check is None or self._schema_check.done():
                self._schema_check = asyncio.create_task(self._check_schema(self.schema))
                self._schema_check.add_done_callback(_retrieve_error)
            await asyncio.shield(self._schema_check)
        answered = time.monotonic() - self.answered_at
        if self.answered_at > self.failed_at and answered < self.settings.readiness_timeout:
            return {**self.status(), "answered_seconds_ago": round(answered, 3)}
        async with self.engine.connect() as connection:
            await dialect.probe(connection)
        return self.status()

    async def _check_schema(self, schema: SchemaVersion) -> None:
        engine = create_async_engine(
            self.settings.database_url.get_secret_value(),
            poolclass=NullPool,
            connect_args=dialect.connect_args(self.settings),
        )
        try:
            async with engine.connect() as connection:
                await schema.check(connection)
        finally:
            await engine.dispose()

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = dict(self.pool_status())
        if self.schema is not None:
            status["schema"] = self.schema.state
        return status

    def pool_status(self) -> dict[str, int]:
        pool = self.engine.pool
        status = {"pool_timeouts": self.pool_timeouts}
        if isinstance(pool, QueuePool):  # NullPool (behind PgBouncer) keeps nothing
            status |= {
                "size": pool.size(),
                "checked_out": pool.checkedout(),
                "overflow": max(0, pool.overflow()),
            }
        return status

    async def dispose(self) -> None:
        if self._schema_check is not None:
            self._schema_check.cancel()
        await self.engine.dispose()


def _retrieve_error(task: asyncio.Task[None]) -> None:
    # The probe that awaited it reported the error; one that gave up did not need it.
    if not task.cancelled():
        task.exception()


def create_engine(settings: Settings) -> AsyncEngine:
    options: dict[str, Any] = {"connect_args": dialect.connect_args(settings)}
    null_pool = dialect.uses_null_pool(settings)
    if null_pool:
        options["poolclass"] = NullPool
    else:
        options |= {
            "poolclass": FairAsyncPool,
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout,
            "pool_recycle": settings.db_pool_recycle,
            "pool_use_lifo": settings.db_pool_use_lifo,
        }
    engine = create_async_engine(settings.database_url.get_secret_value(), **options)
    dialect.configure(engine, settings)
    if settings.db_pool_pre_ping and not null_pool:  # NullPool's connections are all new
        pre_ping = PrePing(settings)
        event.listen(engine.sync_engine, "checkout", pre_ping.on_checkout)
        event.listen(engine.sync_engine, "checkin", pre_ping.on_checkin)
    return engine


class PrePing:
    """The pool's liveness check: free for a connection in use, one round trip after idling.

    A connection the server closed while it sat in the pool (a restart, a
    terminated backend) is known to be closed without asking, and is replaced.
    One idle for longer than DB_POOL_PING_IDLE_SECONDS is pinged: a server
    that went away without closing (a failover, a dropped route) would
    otherwise hold its next request until the statement timeout. One back from
    a request more recent than that has just been heard from, and a ping on
    every checkout would double a read's round trips. A statement that meets
    a dead connection anyway is a 503, and SQLAlchemy then replaces every
    connection opened before it.

    SQLAlchemy's own pool_pre_ping waits for the answer as long as for any
    statement; here a connection that does not answer within
    DB_CONNECT_TIMEOUT is given up, and with it every idle connection opened
    before it: the pool connects anew.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.idle_limit = settings.db_pool_ping_idle_seconds

    def on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dialect.closed(dbapi_connection.driver_connection):
            raise exc.DisconnectionError("the server closed the connection while it was idle")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < self.idle_limit:
            return  # just opened, or just used
        try:
            dbapi_connection.run_async(lambda driver: dialect.ping(driver, self.settings))
        except Exception as error:
            raise exc.InvalidatePoolError(describe(error)) from error


# Where PrePing keeps when a connection went back to the pool: the record's
# info lasts as long as the connection itself, and is cleared when it is replaced.
_IDLE_SINCE = "idle_since"


def database_unavailable(error: Exception) -> bool:
    """Whether the error is the database's state (503) rather than a bug (500)."""
    if isinstance(error, exc.DBAPIError):
        if isinstance(error, exc.OperationalError | exc.InterfaceError):
            return True
        return error.connection_invalidated or dialect.unavailable(error)
    # Refused, or no answer in time, before the driver had a say (OSError); or
    # the driver's own error, where SQLAlchemy lets one through (dialect.py).
    return isinstance(error, OSError) or dialect.driver_unavailable(error)


def _unavailable(detail: str, error: BaseException, retry_after: int) -> ServiceUnavailableError:
    log.warning("database unavailable", detail=detail, error=describe(error))
    return ServiceUnavailableError(detail, retry_after=retry_after)


# async, though it awaits nothing: FastAPI runs a plain `def` dependency in a
# worker thread, and two thread hops per request cost more than the query.
async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """A session per request; writes commit in the service layer, anything else rolls back."""
    async with _unavailable_as_503(database), database.sessionmaker() as session:
        yield session


async def get_read_connection(database: DatabaseDep) -> AsyncIterator[AsyncConnection]:
    """A connection for requests that only read: Core statements, no ORM session.

    On PostgreSQL (unless a pooler drops prepared statements) each statement
    commits on its own, so a single SELECT is one round trip, not BEGIN,
    SELECT and ROLLBACK. Two statements on it may see two snapshots: a use
    case that needs one consistent view, or writes, takes SessionDep.
    """
    async with _unavailable_as_503(database), database.reader.connect() as connection:
        yield connection


@asynccontextmanager
async def _unavailable_as_503(database: Database) -> AsyncIterator[None]:
    """Database errors as 503s, where the session or connection it wraps is closed too.

    The rollback at close meets a dead connection as often as the request's
    own statements do, and must be a 503 just the same.
    """
    try:
        yield
    except exc.TimeoutError as error:
        # Every connection is busy and none came back within DB_POOL_TIMEOUT.
        database.pool_timeouts += 1
        if database.on_pool_timeout is not None:
            database.on_pool_timeout()
        raise _unavailable("The database connection pool is exhausted.", error, 1) from error
    except Exception as error:
        if not database_unavailable(error):
            raise  # a bug, or the service's own error (a 404, a 409)
        database.failed_at = time.monotonic()
        raise _unavailable("The database is unavailable.", error, 5) from error


# scope="function": the session (and its connection) goes back to the pool as
# soon as the endpoint returns, not after the response has been sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadConnectionDep = Annotated[AsyncConnection, Depends(get_read_connection, scope="function")]
