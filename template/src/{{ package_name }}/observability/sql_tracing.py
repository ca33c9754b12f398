"""A span for every SQL statement, beneath the span of the request that ran it."""

from __future__ import annotations

import os

from opentelemetry import metrics, trace
from sqlalchemy.ext.asyncio import AsyncEngine

from .tracing import sdk_disabled


def instrument_engine(engine: AsyncEngine) -> None:
    """Spans for every statement of this engine, as children of the request's span.

    SQLAlchemyInstrumentor().instrument() would refuse SQLAlchemy 2.1 (it
    declares <2.1) and patch create_engine globally, missing engines made by a
    function imported before it ran. Its EngineTracer, attached to the engine,
    works with 2.1's events; the tests check that the spans appear.
    """
    if sdk_disabled(os.environ):
        return
    # Imported here: the instrumentation (and what it checks versions with) is
    # a good share of the import time, paid only where tracing is on.
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = metrics.get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, usage)
