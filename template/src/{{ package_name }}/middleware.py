"""Pure ASGI middleware: request id, timing, the access log and the last-resort 500;
HEAD, ``Connection: close`` while draining, and the bodies the service reads.

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
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PROBLEM_JSON, problem_body
from .health import Readiness
from .observability.logging import direct_logger
from .observability.routes import RouteTemplates

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only if it is short and printable: it ends up in logs.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# Probes hit every few seconds; log them only when they fail.
_QUIET_PATHS = frozenset({"/livez", "/readyz", "/healthz"})


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
        # Built with the app's middleware stack, after create_app configured logging.
        self.access_log = direct_logger("access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        method = scope["method"]
        status = 500  # what the client sees if the app fails before responding
        response_started = False
        started = time.perf_counter()
        readiness = scope.get("state", {}).get("readiness")
        if method == "HEAD":  # answered wherever GET is: the GET route runs, its body is dropped
            scope = {**scope, "method": "GET"}

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
                if isinstance(readiness, Readiness) and readiness.draining:
                    # Keep-alive clients reconnect, to an instance that is not
                    # going away, instead of meeting a closed socket when it does.
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            elif method == "HEAD" and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        for observer in self.observers:
            observer.request_started()
        # Reset, not unbound, afterwards: cheaper than bound_contextvars(), which
        # copies the whole context to save what it overwrites.
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # A bug, not a client error: log it once, with the request's id,
            # and tell the client nothing about it.
            self.access_log.exception("unhandled error", path=scope["path"])
            if response_started:
                raise
            await _send_problem(scope, send_with_request_id, 500)
        finally:
            seconds = time.perf_counter() - started
            # The template groups requests for dashboards and metrics;
            # unmatched paths have none, so arbitrary URLs cannot explode them.
            route = self.route_template(scope)
            for observer in self.observers:
                observer.request_finished(method, route, status, seconds)
            if status >= 400 or scope["path"] not in _QUIET_PATHS:
                self.access_log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    client=scope["client"][0] if scope.get("client") else None,
                )
            structlog.contextvars.reset_contextvars(**bound)


class RequestBodyTooLarge(HTTPException):
    """Raised while a body streams in, once it passes the limit; the error handlers answer it."""

    def __init__(self, max_bytes: int) -> None:
        detail = f"The request body exceeds {max_bytes} bytes."
        # The rest of the body is never read, so the connection cannot carry another request.
        super().__init__(413, detail, headers={"Connection": "close"})


class RequestBodyRules:
    """The bodies the service reads: JSON, of at most ``max_bytes``, checked as they arrive.

    A body that is not JSON is refused (415) before a byte of it is read; one
    that declares more than ``max_bytes`` (Content-Length) is refused at once,
    and a chunked one at the chunk that crosses the limit: nothing past it is
    ever read or kept (413). Requests without a body pass untouched.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked, media_type, encoding = 0, False, b"", b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value)  # the server has refused a malformed one already
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"content-type":
                media_type = value.partition(b";")[0].strip().lower()
            elif name == b"content-encoding":
                encoding = value.strip().lower()
        if not length and not chunked:
            await self.app(scope, receive, send)
            return
        if not _is_json(media_type) or encoding not in (b"", b"identity"):
            detail = "The request body must be JSON (application/json or application/*+json)."
            await _send_problem(scope, send, 415, detail, close=True)
            return
        if length > self.max_bytes:
            error = RequestBodyTooLarge(self.max_bytes)
            await _send_problem(scope, send, 413, error.detail, close=True)
            return

        received = 0
        response_started = False

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_noting_start)
        except RequestBodyTooLarge as error:  # raised where no error handler runs
            if response_started:
                raise
            await _send_problem(scope, send, 413, error.detail, close=True)


def _is_json(media_type: bytes) -> bool:
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


async def _send_problem(
    scope: Scope, send: Send, status: int, detail: str | None = None, *, close: bool = False
) -> None:
    body = json.dumps(problem_body(status, scope["path"], detail)).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            return str(value, "ascii")
    # As random as uuid4().hex, without building a UUID object per request.
    return os.urandom(16).hex()
