"""Data access for items: queries only, no HTTP and no transaction decisions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ...errors import ConflictError
from .models import Item


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: int) -> Item | None:
        return await self.session.get(Item, item_id)

    async def page(self, *, limit: int, after: int | None) -> Sequence[Item]:
        """Keyset pagination: an index range scan, however deep the page."""
        query = select(Item).order_by(Item.id).limit(limit)
        if after is not None:
            query = query.where(Item.id > after)
        return (await self.session.scalars(query)).all()

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
