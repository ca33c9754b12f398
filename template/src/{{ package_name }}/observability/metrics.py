"""Prometheus metrics: requests by route template, in-flight requests, readiness checks.

Under gunicorn every worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it before any worker starts) and a scrape of any worker
aggregates them all; a single process keeps them in memory.
"""

from __future__ import annotations

import os

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
READINESS = Gauge(
    "readiness_check_ok",
    "1 while a /readyz check passes, 0 while it fails (the lowest of the live processes).",
    ["check"],
    multiprocess_mode="livemin",
)
LOOP_LAG = Histogram(
    "event_loop_lag_seconds",
    "How late the event loop ran a timer: every request on the process waited as long.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def record_readiness(check: str, ok: bool) -> None:
    """A Readiness observer: what each check said last."""
    READINESS.labels(check).set(1 if ok else 0)


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
def metrics() -> Response:
    # A plain def, which FastAPI runs in a worker thread: the collectors read
    # /proc and, under gunicorn, every worker's files, which would block the loop.
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


class PrometheusRequests:
    """Counts and times every HTTP request by route template (a RequestObserver)."""

    def __init__(self) -> None:
        # Each label set's series, found once: labels() validates and locks on
        # every call. Route templates keep both maps small.
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._requests: dict[tuple[str, str, int], Counter] = {}

    def request_started(self) -> None:
        IN_FLIGHT.inc()

    def request_finished(self, method: str, route: str | None, status: int, seconds: float) -> None:
        IN_FLIGHT.dec()
        route = route or UNMATCHED
        duration = self._durations.get((method, route))
        if duration is None:
            duration = self._durations[method, route] = DURATION.labels(method, route)
        duration.observe(seconds)
        requests = self._requests.get((method, route, status))
        if requests is None:
            requests = self._requests[method, route, status] = REQUESTS.labels(
                method, route, str(status)
            )
        requests.inc()
