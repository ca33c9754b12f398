"""Structured logs: one JSON object per line, request_id on every line of a request.

structlog renders our own events; the standard library's records (uvicorn,
gunicorn, SQLAlchemy, libraries) go through the same processors, so every line
of the process has one shape and carries the request's context variables.
The access line, one per request, skips the standard library's record, handler
and formatter (``direct_logger``): the same processors render it, to the same
stream.
"""

from __future__ import annotations

import logging.config
from dataclasses import dataclass
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


def _rendering(log_format: str) -> list[structlog.typing.Processor]:
    """The last processors of every line: the traceback, if any, then the line itself."""
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if log_format == "console"
        else structlog.processors.JSONRenderer()
    )
    return [structlog.processors.format_exc_info, renderer]


def logging_config(
    level: str, log_format: str, *extra: structlog.typing.Processor
) -> dict[str, Any]:
    """A logging.config.dictConfig schema; gunicorn.conf.py hands it to gunicorn too.

    ``extra`` processors run on every line after the shared ones (the trace context).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_SHARED_PROCESSORS, *extra],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_rendering(log_format),
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


@dataclass(frozen=True)
class _DirectPath:
    """What configure_logging set up last, for direct loggers to render and write with."""

    handler: logging.StreamHandler[Any]
    processors: list[structlog.typing.Processor]
    wrapper_class: type[structlog.typing.FilteringBoundLogger]


_direct: _DirectPath | None = None


class _StdoutLine:
    """Where a direct logger's rendered line goes: the stdout handler's stream.

    Under the handler's lock, then flushed, as the handler itself writes: one
    write() per line, so lines never interleave, neither with the standard
    library's nor across gunicorn's workers sharing one stdout.
    """

    def __init__(self, name: str) -> None:
        self.name = name  # what structlog.stdlib.add_logger_name reads

    def msg(self, line: str) -> None:
        if _direct is None:  # a logger outlived the logging it was made for
            return
        handler = _direct.handler
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:  # noqa: BLE001 - a closed stdout fails no request, as with the handler
            handler.handleError(logging.makeLogRecord({"msg": line}))
        finally:
            handler.release()

    debug = info = warning = error = critical = msg


def direct_logger(name: str) -> Any:
    """A structlog logger that writes straight to stdout, for the line of every request.

    The standard library's path builds a LogRecord, looks up the caller's frame,
    copies the record and runs the handler chain: more than half of what an
    access line costs. This one runs the same processors (the same JSON keys in
    the same order), drops events below LOG_LEVEL as early, and writes to the
    same stream. Call it after configure_logging; before, it is the usual logger.
    """
    if _direct is None:
        return structlog.stdlib.get_logger(name)
    return structlog.wrap_logger(
        _StdoutLine(name),
        processors=_direct.processors,
        wrapper_class=_direct.wrapper_class,
        cache_logger_on_first_use=True,
    )


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
    global _direct  # once per process, as structlog.configure
    stdout = next(h for h in logging.getLogger().handlers if h.get_name() == "stdout")
    if not isinstance(stdout, logging.StreamHandler):
        raise TypeError(f"the stdout handler is a {type(stdout).__name__}")
    _direct = _DirectPath(
        handler=stdout,
        # The standard library's path without the record: structlog's chain above,
        # then the formatter's (remove_processors_meta aside: there is no record).
        processors=[
            *_SHARED_PROCESSORS,
            *extra,
            structlog.processors.StackInfoRenderer(),
            *_rendering(log_format),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )
