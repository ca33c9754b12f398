"""One shared HTTP client per process, and retries that are safe to make.

The client lives in the lifespan, so connections to each upstream are pooled
and reused; timeouts are explicit so no call can hang a request forever.
"""

from __future__ import annotations

import asyncio
import random
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from opentelemetry import trace

from .settings import Settings

# Retrying these cannot apply a change twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})

tracer = trace.get_tracer(__name__)


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout),
        limits=httpx.Limits(
            max_connections=settings.http_max_connections,
            max_keepalive_connections=settings.http_max_keepalive_connections,
        ),
    )


async def request_with_retry(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    attempts: int = 3,
    base_delay: float = 0.1,
    max_delay: float = 2.0,
    **kwargs: Any,
) -> httpx.Response:
    """Retry an idempotent request on connection errors and 429/502/503/504.

    Waits are exponential with full jitter, so many callers retrying at once
    spread out instead of hitting the upstream in waves.
    """
    method = method.upper()
    if method not in IDEMPOTENT_METHODS:
        raise ValueError(f"{method} is not idempotent; retrying it could apply it twice")
    attributes = {"http.request.method": method}
    with tracer.start_as_current_span("http.retry", attributes=attributes) as span:
        for attempt in range(1, attempts):
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.TransportError:
                pass
            else:
                if response.status_code not in RETRY_STATUSES:
                    span.set_attribute("retry.attempts", attempt)
                    return response
                await response.aclose()
            delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))  # noqa: S311 - jitter
            await asyncio.sleep(delay)
        span.set_attribute("retry.attempts", attempts)
        # The last attempt's outcome is the caller's, error or not.
        return await client.request(method, url, **kwargs)


async def get_http_client(request: Request) -> httpx.AsyncClient:  # async: no thread hop
    client: httpx.AsyncClient = request.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
