"""Structured logs: one JSON object per line, request_id on every line of a request.

structlog renders our own events; the standard library's records (uvicorn,
gunicorn, SQLAlchemy, libraries) go through the same processors, so every line
of the process has one shape and carries the request's context variables.
"""

from __future__ import annotations

import logging.config
from typing import Any

import structlog

# Applied to structlog events and to standard-library records alike.
_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(
    level: str, log_format: str, *extra: structlog.typing.Processor
) -> dict[str, Any]:
    """A logging.config.dictConfig schema; gunicorn.conf.py hands it to gunicorn too.

    ``extra`` processors run on every line after the shared ones (the trace context).
    """
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if log_format == "console"
        else structlog.processors.JSONRenderer()
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_SHARED_PROCESSORS, *extra],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "structlog",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            # Everything flows to the root handler, once.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # The access middleware writes richer access lines (route, duration).
            "uvicorn.access": {"handlers": [], "propagate": False},
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": False},
            # pika (RabbitMQ) narrates every connection at INFO, and every lost one
            # in several ERROR lines; its callers report what matters (a 503 on
            # enqueue, workers/connection.py in the worker).
            "pika": {"level": "CRITICAL"},
        },
    }


def configure_logging(level: str, log_format: str, *extra: structlog.typing.Processor) -> None:
    """Route structlog and the standard library through one JSON (or console) renderer."""
    # No line shows them, and each record would pay a getpid() and a thread lookup.
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    logging.config.dictConfig(logging_config(level, log_format, *extra))
    # Warnings (a library's deprecation, Celery's root check) become log lines too,
    # instead of text on stderr.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            *extra,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Drops events below LOG_LEVEL before any processor runs.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
