"""HTTP endpoints for items: parse the request, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from ...errors import problems
from .schemas import MAX_ITEM_ID, ItemCreate, ItemPage, ItemRead
from .service import ItemReaderDep, ItemServiceDep

router = APIRouter(prefix="/items", tags=["items"])

ItemId = Annotated[int, Path(ge=1, le=MAX_ITEM_ID)]
After = Annotated[
    int | None, Query(ge=0, le=MAX_ITEM_ID, description="next_after of the previous page")
]


@router.get("")
async def list_items(
    items: ItemReaderDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: After = None,
) -> ItemPage:
    return await items.page(limit=limit, after=after)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_item(
    payload: ItemCreate, service: ItemServiceDep, request: Request, response: Response
) -> ItemRead:
    item = await service.create(payload)
    # Relative to the collection, as RFC 9110 allows: request.url_for would
    # search the app's routes for get_item on every create.
    response.headers["Location"] = f"{request.url.path}/{item.id}"
    return item


@router.get("/{item_id}", responses=problems(404))
async def get_item(item_id: ItemId, items: ItemReaderDep) -> ItemRead:
    return await items.get(item_id)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def delete_item(item_id: ItemId, service: ItemServiceDep) -> None:
    await service.delete(item_id)
