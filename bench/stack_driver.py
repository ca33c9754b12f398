"""The middleware and metrics stack alone, in CPU microseconds per request.

Run by bench/inprocess.py with the rendered project's interpreter (cwd: the
project), never imported by it:

    <project>/.venv/bin/python bench/stack_driver.py <requests>

Wraps an endpoint that answers at once in the service's own middleware (request
id, access line at INFO, body rules, the Prometheus observer) and calls it
directly, with no server, client or database in the way, then the same endpoint
bare. Prints one JSON line: {"stack_us": ..., "metrics": "multiprocess" | "in memory"}.
Whether prometheus_client writes to files is up to PROMETHEUS_MULTIPROC_DIR,
as in a gunicorn worker.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
ASGIApp = Callable[[Message, Any, Any], Awaitable[None]]
PATH = "/api/v1/items/{item_id}"


async def measure(app: ASGIApp, scope: Message, requests: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    for _ in range(requests // 10):  # warm: the route's template and metric series found
        await app(dict(scope), receive, send)
    started = time.process_time()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.process_time() - started) / requests


async def main(requests: int) -> None:
    # The project's modules, which only its own interpreter has.
    fastapi = importlib.import_module("fastapi")
    middleware = importlib.import_module("orders_api.middleware")
    logging = importlib.import_module("orders_api.observability.logging")
    metrics = importlib.import_module("orders_api.observability.metrics")

    logging.configure_logging("INFO", "json")

    async def get_item(item_id: int) -> None:
        pass

    routes = fastapi.FastAPI()
    routes.add_api_route(PATH, get_item)
    route = routes.routes[-1]

    async def endpoint(scope: Message, receive: Any, send: Any) -> None:
        scope["route"] = route  # what the router records for the route it matched
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/items/5",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "state": {},
        "app": routes,
    }
    stack = middleware.RequestContextMiddleware(
        middleware.RequestBodyRules(endpoint, max_bytes=1 << 20),
        observers=[metrics.PrometheusRequests()],
    )
    bare, full = [], []
    for _ in range(3):  # interleaved, the median counts
        bare.append(await measure(endpoint, scope, requests))
        full.append(await measure(stack, scope, requests))
    overhead = sorted(f - b for f, b in zip(full, bare, strict=True))[1]
    mode = "multiprocess" if "PROMETHEUS_MULTIPROC_DIR" in os.environ else "in memory"
    answer = json.dumps({"stack_us": overhead * 1e6, "metrics": mode})
    # The access lines went to stdout: the answer goes to stderr's last line.
    print(answer, file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    # The access lines are written as a server writes them, to a sink that keeps nothing.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    asyncio.run(main(int(sys.argv[1])))
