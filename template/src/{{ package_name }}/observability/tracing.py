"""OpenTelemetry traces, exported over OTLP (http/protobuf), configured by OTEL_* variables.

Set OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) to where your collector
listens, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES to name the service;
OTEL_SDK_DISABLED=true turns tracing off without a deploy.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from ..settings import Settings

# The process that configured tracing: a forked worker must set up its own
# provider, because the batch exporter's thread does not survive a fork.
_configured_in: int | None = None


def configure_tracing(settings: Settings, processor: SpanProcessor | None = None) -> None:
    """Install this process's tracer provider once; later calls in the same process do nothing."""
    global _configured_in
    if _configured_in == os.getpid():
        return
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES take precedence over this default.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    provider.add_span_processor(processor or BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    _configured_in = os.getpid()


def instrument_engine(engine: AsyncEngine) -> None:
    """Spans for every statement of this engine, as children of the request's span.

    SQLAlchemyInstrumentor().instrument() would refuse SQLAlchemy 2.1 (it
    declares <2.1) and patch create_engine globally, missing engines made by a
    function imported before it ran. Its EngineTracer, attached to the engine,
    works with 2.1's events; the tests check that the spans appear.
    """
    tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = metrics.get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, usage)


def flush_spans(timeout_millis: int = 5_000) -> None:
    """Export what is buffered, e.g. before the process exits."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(timeout_millis)


def trace_context(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current trace and span ids on every line logged inside a span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
