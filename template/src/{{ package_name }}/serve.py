"""The production command: one uvicorn process, `python -m <package>.serve`.

One process per replica: the platform scales replicas, not workers in a pod.
Every value comes from Settings, so the environment drives the server exactly
as it drives the app. On SIGTERM the lifespan reports unready for
SHUTDOWN_DRAIN_SECONDS (shutdown.py); then uvicorn stops accepting and gives
in-flight requests SHUTDOWN_TIMEOUT, which ends before the platform's grace
period does.
"""

from __future__ import annotations

import uvicorn

from .observability.logging import logging_config
from .settings import Settings

APP_FACTORY = f"{__package__}.main:create_app"


def main(app_factory: str = APP_FACTORY) -> None:
    """Serve until SIGTERM; then drain, finish in-flight requests, and exit."""
    settings = Settings()
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        # A lifespan failure must stop the process, not serve without resources.
        lifespan="on",
        # RequestContextMiddleware writes the access log, with the request id.
        access_log=False,
        log_config=logging_config(settings.log_level, settings.log_format),
        timeout_graceful_shutdown=settings.shutdown_timeout,
        timeout_keep_alive=settings.keepalive,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
