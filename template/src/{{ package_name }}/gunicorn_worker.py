"""The uvicorn worker gunicorn runs, with a graceful shutdown that fits the grace period.

Gunicorn's stock configuration gives uvicorn no graceful-shutdown timeout, so a
slow request can hold a worker until gunicorn kills it mid-response. Here
in-flight requests get SHUTDOWN_TIMEOUT seconds after the drain, which ends
before GRACEFUL_TIMEOUT, gunicorn's hard limit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from .settings import Settings


class GracefulUvicornWorker(UvicornWorker):  # type: ignore[misc]  # untyped base
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        # RequestContextMiddleware writes the access log, with the request id.
        "access_log": False,
        # A lifespan failure must stop the worker, not serve without resources.
        "lifespan": "on",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = Settings().shutdown_timeout
