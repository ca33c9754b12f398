"""Data access for items: queries only, no HTTP and no transaction decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ...errors import ConflictError
from .models import Item

# Reads select the table's columns through Core, built once: the ORM's
# identity map and change tracking buy nothing for rows that are turned into
# a response and dropped, and cost about half of a read's CPU.
ITEMS = Item.__table__
BY_ID = select(ITEMS).where(ITEMS.c.id == bindparam("item_id"))
# Keyset pagination: an index range scan, however deep the page.
FIRST_PAGE = select(ITEMS).order_by(ITEMS.c.id).limit(bindparam("limit"))
PAGE_AFTER = FIRST_PAGE.where(ITEMS.c.id > bindparam("after"))
# Writes are Core statements too, in the session's transaction: an INSERT or
# a DELETE that names its row needs no object loaded, tracked and flushed,
# which is most of what session.add() and session.delete() cost. (Use the
# session's own add() for an object graph that the unit of work should order.)
INSERT_ITEM = insert(Item)
DELETE_BY_ID = delete(Item).where(Item.id == bindparam("item_id"))


class ItemQueries:
    """The reads, on a connection of ReadConnectionDep: rows, not entities."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def get(self, item_id: int) -> Row[Any] | None:
        return (await self.connection.execute(BY_ID, {"item_id": item_id})).first()

    async def page(self, *, limit: int, after: int | None) -> Sequence[Row[Any]]:
        if after is None:
            result = await self.connection.execute(FIRST_PAGE, {"limit": limit})
        else:
            result = await self.connection.execute(PAGE_AFTER, {"limit": limit, "after": after})
        return result.all()


class ItemRepository:
    """The writes, in the request's session and its transaction; the service commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, name: str, description: str | None) -> Item:
        """The new item, as stored; the session does not track it."""
        connection = await self.session.connection()  # the session's, in its transaction
        try:
            result = await connection.execute(
                INSERT_ITEM, {"name": name, "description": description}
            )
        except IntegrityError as error:
            # The unique constraint decides, so two concurrent creates cannot both win.
            raise ConflictError(f"An item named {name!r} already exists.") from error
        # The values sent, created_at's default among them, and the new id: no
        # read-back, and no RETURNING beyond the id (MySQL has none). One row
        # inserted, so one dict and one key (executemany's are lists).
        values = cast(dict[str, Any], result.last_inserted_params())
        key = cast(Row[Any], result.inserted_primary_key)
        return Item(**values, id=key.id)

    async def delete(self, item_id: int) -> bool:
        """Whether the item existed: one statement, no SELECT before it."""
        connection = await self.session.connection()
        result = await connection.execute(DELETE_BY_ID, {"item_id": item_id})
        return result.rowcount == 1
