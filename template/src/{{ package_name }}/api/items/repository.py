"""Data access for items: queries only, no HTTP and no transaction decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, select
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
    """The writes, on the request's session: entities, in its unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: int) -> Item | None:
        return await self.session.get(Item, item_id)

    async def add(self, item: Item) -> Item:
        self.session.add(item)
        try:
            await self.session.flush()
        except IntegrityError as error:
            # The unique constraint decides, so two concurrent creates cannot both win.
            raise ConflictError(f"An item named {item.name!r} already exists.") from error
        return item

    async def delete(self, item: Item) -> None:
        await self.session.delete(item)
