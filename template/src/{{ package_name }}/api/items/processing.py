"""Work the API hands to the queue: accept now (202), let a worker do it, show it on GET."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ...errors import problems
from ...workers import PROCESS_ITEM
from ...workers.client import TaskQueueDep
from .router import ItemId
from .schemas import ProcessingAccepted
from .service import ItemReaderDep

router = APIRouter(prefix="/items", tags=["items"])


@router.post("/{item_id}/process", status_code=status.HTTP_202_ACCEPTED, responses=problems(404))
async def process_item(
    item_id: ItemId,
    items: ItemReaderDep,
    queue: TaskQueueDep,
    request: Request,
    response: Response,
) -> ProcessingAccepted:
    await items.get(item_id)  # a missing item is a 404 now, not a failed job later
    job_id = await queue.enqueue(PROCESS_ITEM, item_id)
    status_url = str(request.url_for("get_item", item_id=item_id))
    response.headers["Location"] = status_url
    return ProcessingAccepted(job_id=job_id, status_url=status_url)
