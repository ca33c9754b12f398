"""Pure ASGI middleware: request id, timing, the access log and the last-resort 500.

Starlette's class-based HTTP middleware would copy every body through an extra
task and break context variables; a plain ASGI callable costs one function
call per message. Metrics plug in as observers of this one layer rather than
adding another.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from typing import Protocol

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PROBLEM_JSON, problem_body
from .observability.routes import RouteTemplates

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only if it is short and printable: it ends up in logs.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# Probes hit every few seconds; log them only when they fail.
_QUIET_PATHS = frozenset({"/livez", "/readyz", "/healthz"})

access_log = structlog.stdlib.get_logger("access")


class RequestObserver(Protocol):
    """Told about every HTTP request, e.g. to count and time it."""

    def request_started(self) -> None: ...

    def request_finished(
        self, method: str, route: str | None, status: int, seconds: float
    ) -> None: ...


class RequestContextMiddleware:
    """Binds request_id for every log line of the request and writes one access line."""

    def __init__(self, app: ASGIApp, observers: Sequence[RequestObserver] = ()) -> None:
        self.app = app
        self.observers = tuple(observers)
        self.route_template = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        status = 500  # what the client sees if the app fails before responding
        response_started = False
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        for observer in self.observers:
            observer.request_started()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception:
                # A bug, not a client error: log it once, with the request's id,
                # and tell the client nothing about it.
                access_log.exception("unhandled error", path=scope["path"])
                if response_started:
                    raise
                await _send_internal_error(scope, send_with_request_id)
            finally:
                seconds = time.perf_counter() - started
                # The template groups requests for dashboards and metrics;
                # unmatched paths have none, so arbitrary URLs cannot explode them.
                route = self.route_template(scope)
                for observer in self.observers:
                    observer.request_finished(scope["method"], route, status, seconds)
                if status >= 400 or scope["path"] not in _QUIET_PATHS:
                    access_log.info(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        route=route,
                        status=status,
                        duration_ms=round(seconds * 1000, 2),
                        client=scope["client"][0] if scope.get("client") else None,
                    )


async def _send_internal_error(scope: Scope, send: Send) -> None:
    body = json.dumps(problem_body(500, scope["path"])).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            return str(value, "ascii")
    # As random as uuid4().hex, without building a UUID object per request.
    return os.urandom(16).hex()
