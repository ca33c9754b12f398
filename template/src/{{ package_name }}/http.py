"""One shared HTTP client per process, and retries that are safe to make.

The client lives in the lifespan, so connections to each upstream are pooled
and reused; timeouts are explicit so no call can hang a request forever.

Retries come from httpx-retries, a transport around the pooled one: it retries
idempotent methods only, waits exponentially with full jitter (honouring a
Retry-After), and sends each attempt through the shared pool, so the client's
limits and timeouts hold and tracing shows one client span per attempt. It was
chosen over stamina, whose jitter is added to the wait rather than spread over
it and which knows nothing of HTTP methods or statuses, and over tenacity, a
general-purpose loop that would need all of that configured around it.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from httpx_retries import Retry, RetryTransport
from opentelemetry import trace

from .settings import Settings

# Retrying these cannot apply a change twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Plain calls on the shared client are sent once; request_with_retry opts in per call.
NO_RETRY = Retry(total=0)

tracer = trace.get_tracer(__name__)


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    # With a transport of its own the client ignores `limits`: the pool that
    # enforces them is the transport's.
    pool = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(
            max_connections=settings.http_max_connections,
            max_keepalive_connections=settings.http_max_keepalive_connections,
        )
    )
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout),
        transport=RetryTransport(transport=pool, retry=NO_RETRY),
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
    """Retry an idempotent request on connection errors, timeouts and 429/502/503/504.

    Waits are exponential with full jitter, so many callers retrying at once
    spread out instead of hitting the upstream in waves. The last attempt's
    outcome, error or not, is the caller's.
    """
    method = method.upper()
    if method not in IDEMPOTENT_METHODS:
        raise ValueError(f"{method} is not idempotent; retrying it could apply it twice")
    retry = Retry(
        total=attempts - 1,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=base_delay,
        max_backoff_wait=max_delay,
        backoff_jitter=1.0,  # full jitter: each wait is uniform between 0 and its cap
    )
    extensions = {**kwargs.pop("extensions", {}), "retry": retry}
    attributes = {"http.request.method": method}
    with tracer.start_as_current_span("http.retry", attributes=attributes) as span:
        response = await client.request(method, url, extensions=extensions, **kwargs)
        final: Retry | None = response.extensions.get("retry")
        if final is None:  # a client without the retrying transport sent it once
            raise TypeError("request_with_retry needs the shared client (create_http_client)")
        span.set_attribute("retry.attempts", final.attempts_made + 1)
        return response


async def get_http_client(request: Request) -> httpx.AsyncClient:  # async: no thread hop
    client: httpx.AsyncClient = request.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
