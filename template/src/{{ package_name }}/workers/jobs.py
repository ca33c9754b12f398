"""What the jobs do, apart from the queue library that delivers them.

Each job is a plain coroutine over the worker's resources; tasks.py adapts it
to the chosen backend (registration, retries, acknowledgement). Jobs run at
least once: a worker killed mid-job means the job runs again elsewhere, so every
job must be safe to repeat (idempotent).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import structlog
from sqlalchemy import exc, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..api.items.models import Item
from ..db import database_unavailable

log = structlog.stdlib.get_logger(__name__)


class TransientJobError(Exception):
    """A failure worth retrying later: the database or the network, not the job's input."""


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential, full jitter.

    The jitter spreads retries of many jobs that failed together (a database
    restart) instead of sending them back all at once.
    """
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - not crypto


async def process_item(sessions: async_sessionmaker[AsyncSession], item_id: int) -> bool:
    """The example job: mark the item processed. False if the item is gone.

    One UPDATE that sets the same column whichever run gets there: repeating it
    is harmless, which is what at-least-once delivery needs.
    """
    log.info("processing item", item_id=item_id)
    try:
        async with sessions.begin() as session:
            result = await session.execute(
                update(Item)
                .where(Item.id == item_id, Item.processed_at.is_(None))
                .values(processed_at=datetime.now(UTC))
            )
            # execute() is typed as returning a Result; an UPDATE's has a rowcount.
            changed = result.rowcount > 0  # type: ignore[attr-defined]
            exists = changed or await session.get(Item, item_id) is not None
    except Exception as error:
        # No free connection in the pool (TimeoutError), or the database's own state.
        if not (isinstance(error, exc.TimeoutError) or database_unavailable(error)):
            raise
        raise TransientJobError("the database is unavailable") from error
    if not exists:
        # Deleted after it was enqueued: nothing to do, and nothing to retry.
        log.info("item is gone", item_id=item_id)
        return False
    log.info("item processed", item_id=item_id, changed=changed)
    return True
