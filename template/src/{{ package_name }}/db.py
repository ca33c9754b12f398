"""The async engine, its pool, and the per-request session.

One engine per process, created in the lifespan (after any fork) and reached
through the session dependency, never through a module global. Every pool knob
is explicit and comes from Settings, whose defaults come from the capacity plan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from .errors import ServiceUnavailableError
from .settings import Settings

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
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        # expire_on_commit=False: attributes stay loaded after commit, so
        # responses can be built without an implicit (async-illegal) refresh.
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        pool_use_lifo=settings.db_pool_use_lifo,
        connect_args={"timeout": settings.db_busy_timeout},
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(settings.db_busy_timeout))
    return engine


def _sqlite_pragmas(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer writes; NORMAL is durable
        # across process crashes in WAL mode and much faster than FULL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    return on_connect


def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """A session per request; writes commit in the service layer, anything else rolls back."""
    async with database.sessionmaker() as session:
        try:
            yield session
        except exc.TimeoutError as error:
            # Every connection is busy and none came back within DB_POOL_TIMEOUT.
            raise ServiceUnavailableError(
                "The database connection pool is exhausted.", retry_after=1
            ) from error
        except exc.OperationalError as error:
            raise ServiceUnavailableError("The database is unavailable.", retry_after=5) from error


# scope="function": the session (and its connection) goes back to the pool as
# soon as the endpoint returns, not after the response has been sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
