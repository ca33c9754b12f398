"""The application factory: settings -> middleware -> routers -> exception handlers.

Nothing happens at import time; servers call create_app() once per process
(`gunicorn 'pkg.main:create_app()'`, `uvicorn --factory`), tests call it with
their own Settings.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .api import api_router
from .errors import install_error_handlers
from .health import router as health_router
from .lifespan import lifespan
from .middleware import RequestContextMiddleware
from .observability.logging import configure_logging
from .settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)

    app = FastAPI(
        title=settings.service_name,
        lifespan=lifespan,
        # The interactive docs are for humans outside production.
        docs_url=None if settings.environment == "production" else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID"],
        )
    # Added last, so it wraps everything: every line logged during a request,
    # CORS preflights included, carries its request_id.
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health_router)
    app.include_router(api_router)
    install_error_handlers(app)
    return app
