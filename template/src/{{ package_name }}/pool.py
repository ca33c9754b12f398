"""The connection pool, first come first served: a returned connection goes to the longest waiter.

SQLAlchemy's asyncio pool keeps idle connections in an asyncio.Queue. When a
connection comes back, the queue wakes its oldest waiter, but leaves the
connection in the queue until that waiter runs; a request arriving in
between finds it there and takes it, and the waiter goes back to the end of
the line. Under load the newest requests are served at once and the oldest
wait until DB_POOL_TIMEOUT and get a 503: a median of milliseconds beside a
tail of seconds, with capacity to spare. Here a returned connection is handed
to the oldest waiter directly, so every request waits its turn, and a 503
means the pool truly cannot keep up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import memoized_property
from sqlalchemy.util.queue import AsyncAdaptedQueue


class HandoffQueue:
    """The asyncio.Queue interface SQLAlchemy's pool uses, with items handed to waiters in order.

    Items are kept only while nobody waits: so whatever is idle may be taken
    at once (get_nowait included) without jumping the line. The items are the
    pool's connection records, which the pool hands over untyped; not a
    generic class, so the file reads the same on Python 3.11 (no type
    parameters) as on 3.12 and 3.13 (whose linters ask for them).
    """

    def __init__(self, maxsize: int, *, lifo: bool) -> None:
        self.maxsize = maxsize
        # LIFO (DB_POOL_USE_LIFO) reuses the most recent connection, letting
        # the others idle out; FIFO spreads the use over all of them.
        self.lifo = lifo
        self._idle: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def qsize(self) -> int:
        return len(self._idle)

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up (DB_POOL_TIMEOUT) is skipped
                waiter.set_result(item)
                return
        if self.full():
            raise asyncio.QueueFull
        self._idle.append(item)

    async def put(self, item: Any) -> None:
        # The pool never blocks on a return: it closes a connection there is no room for.
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._idle:
            raise asyncio.QueueEmpty
        return self._idle.pop() if self.lifo else self._idle.popleft()

    async def get(self) -> Any:
        if self._idle:  # nobody is waiting, or the item would have gone to them
            return self.get_nowait()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            # Timed out or cancelled. If an item was handed over in the same
            # moment, it is not lost with this request: the next waiter gets it.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            raise


class _HandoffAdaptedQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    @memoized_property
    def _queue(self) -> Any:
        # Created on first use, inside the event loop, as SQLAlchemy's own is.
        return HandoffQueue(self.maxsize, lifo=self.use_lifo)


class FairAsyncPool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool (sizes, overflow, timeout, recycle) with a queue that keeps order."""

    _queue_class = _HandoffAdaptedQueue
    # Its log lines under SQLAlchemy's name, where logging settings for "sqlalchemy.pool" find them.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"
