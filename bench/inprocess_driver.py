"""One app, driven in its own process through httpx's ASGI transport: CPU time per request.

Run by bench/inprocess.py with the rendered project's interpreter (cwd: the
project), never imported by it: it needs nothing but the standard library,
httpx and the app under test.

    <project>/.venv/bin/python bench/inprocess_driver.py <module:attribute> <log file>

Reads one command per line on stdin, a JSON object {"workload": ..., "requests": n,
"concurrency": c}, runs the batch, and answers one JSON line on its own stdout
(the app's logs go to <log file>, as a server's would go to its log sink):
{"cpu_seconds": ..., "wall_seconds": ..., "requests": n, "errors": k}, and for
the generated service "stack_us": the microseconds per request its outermost
middleware (RequestContextMiddleware: request id, access line, metrics) spent
in its own code, timed where it runs. An empty line (or end of input) ends the
process, after the app's lifespan shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import json
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any

import httpx

Message = MutableMapping[str, Any]
ASGIApp = Callable[..., Coroutine[Any, Any, None]]
SEEDED = int(os.environ.get("BENCH_SEEDED_ITEMS", "10000"))


class Lifespan:
    """The ASGI lifespan as a server runs it: startup, the state it yields, shutdown."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        await self._outbox.put(message)

    async def _expect(self, sent: str, expected: str) -> None:
        await self._inbox.put({"type": sent})
        message = await self._outbox.get()
        if message["type"] != expected:
            raise RuntimeError(f"lifespan: {message}")

    async def __aenter__(self) -> ASGIApp:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._task = asyncio.create_task(self.app(scope, self._receive, self._send))
        await self._expect("lifespan.startup", "lifespan.startup.complete")

        async def with_state(scope: Message, receive: Any, send: Any) -> None:
            # What uvicorn does: each request gets a shallow copy of the lifespan state.
            if scope["type"] == "http":
                scope["state"] = self.state.copy()
            await self.app(scope, receive, send)

        return with_state

    async def __aexit__(self, *_: object) -> None:
        await self._expect("lifespan.shutdown", "lifespan.shutdown.complete")
        if self._task is not None:
            await self._task


def request_for(workload: str, counter: itertools.count[int]) -> tuple[str, str, Any]:
    if workload == "livez":
        return "GET", "/livez", None
    if workload == "read":
        return "GET", f"/api/v1/items/{random.randint(1, SEEDED)}", None  # noqa: S311
    if workload == "list":
        return "GET", f"/api/v1/items?limit=20&after={random.randint(0, SEEDED - 20)}", None  # noqa: S311
    if workload == "create":
        return "POST", "/api/v1/items", {"name": f"bench-{uuid.uuid4().hex}-{next(counter)}"}
    raise ValueError(f"unknown workload {workload!r}")


class StackClock:
    """The outermost middleware's own time: its whole call less the app's inside it.

    Timed in place, with the request's own work around it, because a hot loop
    of the middleware alone (everything in cache) prices it several times too
    low. Its own code does not await anything but the app it wraps, so wall
    time less the inner app's is its own, with requests in flight concurrently.
    """

    MIDDLEWARE = "RequestContextMiddleware"

    def __init__(self) -> None:
        self.own_ns = 0
        self.requests = 0

    def install(self, app: Any) -> bool:
        """Times the app's RequestContextMiddleware, if it has one; before its first request."""
        for entry in getattr(app, "user_middleware", ()):
            if entry.cls.__name__ == self.MIDDLEWARE:
                entry.cls = self._clocked(entry.cls)
                return True
        return False

    def _clocked(self, middleware: type) -> type:
        clock = self

        class Clocked(middleware):  # type: ignore[misc]
            def __init__(self, app: ASGIApp, *args: Any, **kwargs: Any) -> None:
                async def inner(scope: Message, receive: Any, send: Any) -> None:
                    if scope["type"] != "http":
                        await app(scope, receive, send)
                        return
                    started = time.perf_counter_ns()
                    try:
                        await app(scope, receive, send)
                    finally:
                        clock.own_ns -= time.perf_counter_ns() - started

                super().__init__(inner, *args, **kwargs)

            async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
                if scope["type"] != "http":  # the lifespan lasts as long as the process
                    await super().__call__(scope, receive, send)
                    return
                started = time.perf_counter_ns()
                try:
                    await super().__call__(scope, receive, send)
                finally:
                    clock.own_ns += time.perf_counter_ns() - started
                    clock.requests += 1

        return Clocked


async def batch(
    client: httpx.AsyncClient, workload: str, requests: int, concurrency: int
) -> dict[str, float]:
    counter = itertools.count()
    remaining = iter(range(requests))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for _ in remaining:
            method, path, body = request_for(workload, counter)
            response = await client.request(method, path, json=body)
            if response.status_code >= 400:
                errors += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "cpu_seconds": time.process_time() - cpu,
        "wall_seconds": time.perf_counter() - wall,
        "requests": requests,
        "errors": errors,
    }


async def serve(spec: str, results: Any) -> None:
    # "package.module:app", or "package.module:factory()" for an app factory.
    module, _, attribute = spec.partition(":")
    factory = attribute.endswith("()")
    app = getattr(importlib.import_module(module), attribute.removesuffix("()") or "app")
    if factory:
        app = app()
    clock = StackClock()
    clocked = clock.install(app)
    async with Lifespan(app) as wrapped:
        transport = httpx.ASGITransport(app=wrapped)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            loop = asyncio.get_running_loop()
            results.write(json.dumps({"ready": True}) + "\n")
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line.strip():
                    break
                command = json.loads(line)
                own_ns, timed = clock.own_ns, clock.requests
                measured = await batch(
                    client, command["workload"], command["requests"], command["concurrency"]
                )
                if clocked and clock.requests > timed:
                    measured["stack_us"] = (clock.own_ns - own_ns) / (clock.requests - timed) / 1e3
                results.write(json.dumps(measured) + "\n")


def main() -> None:
    spec, log_file = sys.argv[1], sys.argv[2]
    # The client's own INFO line per request is the driver's cost, not the app's:
    # an app that configures logging at INFO would otherwise pay for it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sys.path.insert(0, os.getcwd())  # the project's own modules (bench_app.py and the like)
    # Our answers keep the real stdout; the app's log lines (to sys.stdout) go to the file.
    results = os.fdopen(os.dup(1), "w", buffering=1)
    with open(log_file, "ab") as log:
        os.dup2(log.fileno(), 1)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    with contextlib.suppress(KeyboardInterrupt):
        try:  # the event loop the servers run
            uvloop: Any = importlib.import_module("uvloop")
        except ImportError:
            asyncio.run(serve(spec, results))
        else:
            uvloop.run(serve(spec, results))


if __name__ == "__main__":
    main()
