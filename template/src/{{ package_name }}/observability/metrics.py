"""Prometheus metrics: requests by route template, in-flight requests, the database pool.

Under gunicorn every worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it before any worker starts) and a scrape of any worker
aggregates them all; a single process keeps them in memory.
"""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .routes import RouteTemplates

UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being served.",
    multiprocess_mode="livesum",
)
LOOP_LAG = Histogram(
    "event_loop_lag_seconds",
    "How late the event loop ran a timer: every request on the process waited as long.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def registry() -> CollectorRegistry:
    """What a scrape reads: every worker's samples under gunicorn, this process's otherwise."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated)
    return aggregated


def start_metrics_server(port: int) -> None:
    """Serve /metrics on a port of its own (METRICS_PORT), away from the API.

    Under gunicorn the master does it, for all workers (gunicorn.conf.py).
    """
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        start_http_server(port, registry=REGISTRY)


router = APIRouter(include_in_schema=False)


# A route, not a mounted app: a mount answers /metrics with a redirect to /metrics/.
@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI: counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route_template = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            IN_FLIGHT.dec()
            method = scope["method"]
            route = self.route_template(scope) or UNMATCHED
            DURATION.labels(method, route).observe(time.perf_counter() - started)
            REQUESTS.labels(method, route, str(status)).inc()
