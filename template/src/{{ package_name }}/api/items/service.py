"""Item use cases: the rules, and where transactions begin and end."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ...db import ReadConnectionDep, SessionDep
from ...errors import NotFoundError
from .repository import ItemQueries, ItemRepository
from .schemas import ItemCreate, ItemPage, ItemRead


class ItemReader:
    """Use cases that only read, one statement each, on a read connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.items = ItemQueries(connection)

    async def get(self, item_id: int) -> ItemRead:
        row = await self.items.get(item_id)
        if row is None:
            raise _missing(item_id)
        return ItemRead.model_validate(row)

    async def page(self, *, limit: int, after: int | None) -> ItemPage:
        # One row more than asked tells whether another page exists, without a COUNT.
        rows = await self.items.page(limit=limit + 1, after=after)
        items = [ItemRead.model_validate(row) for row in rows[:limit]]
        return ItemPage(items=items, next_after=items[-1].id if len(rows) > limit else None)


class ItemService:
    """Use cases that write: each runs in the request's transaction, and commits it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.items = ItemRepository(session)

    async def create(self, data: ItemCreate) -> ItemRead:
        item = await self.items.add(name=data.name, description=data.description)
        await self.session.commit()
        return ItemRead.model_validate(item)

    async def delete(self, item_id: int) -> None:
        if not await self.items.delete(item_id):
            raise _missing(item_id)
        await self.session.commit()


def _missing(item_id: int) -> NotFoundError:
    return NotFoundError(f"Item {item_id} does not exist.")


# async, though they await nothing: FastAPI runs a plain def in a worker thread.
async def get_item_reader(connection: ReadConnectionDep) -> ItemReader:
    return ItemReader(connection)


async def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(session)


ItemReaderDep = Annotated[ItemReader, Depends(get_item_reader)]
ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
