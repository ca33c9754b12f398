"""Item use cases: the rules, and where transactions begin and end."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from ...db import SessionDep
from ...errors import NotFoundError
from .models import Item
from .repository import ItemRepository
from .schemas import ItemCreate, ItemPage, ItemRead


class ItemService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.items = ItemRepository(session)

    async def get(self, item_id: int) -> Item:
        item = await self.items.get(item_id)
        if item is None:
            raise NotFoundError(f"Item {item_id} does not exist.")
        return item

    async def page(self, *, limit: int, after: int | None) -> ItemPage:
        # One row more than asked tells whether another page exists, without a COUNT.
        rows = await self.items.page(limit=limit + 1, after=after)
        items = [ItemRead.model_validate(row) for row in rows[:limit]]
        return ItemPage(items=items, next_after=items[-1].id if len(rows) > limit else None)

    async def create(self, data: ItemCreate) -> Item:
        item = await self.items.add(Item(name=data.name, description=data.description))
        await self.session.commit()
        return item

    async def delete(self, item_id: int) -> None:
        await self.items.delete(await self.get(item_id))
        await self.session.commit()


async def get_item_service(session: SessionDep) -> ItemService:  # async: no thread hop
    return ItemService(session)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
