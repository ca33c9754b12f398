"""OpenTelemetry traces, exported over OTLP (http/protobuf), configured by OTEL_* variables.

Set OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) to where your collector
listens, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES to name the service;
OTEL_SDK_DISABLED=true turns tracing off without a deploy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import trace

from ..settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

log = structlog.stdlib.get_logger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

# The process that configured tracing: a forked worker must set up its own
# provider, because the batch exporter's thread does not survive a fork.
_configured_in: int | None = None


def configure_tracing(settings: Settings, processor: SpanProcessor | None = None) -> None:
    """Install this process's tracer provider once; later calls in the same process do nothing."""
    global _configured_in
    if _configured_in == os.getpid() or sdk_disabled(os.environ):
        return
    # The SDK and the instrumentation are imported here, not at module level:
    # a process with tracing switched off never loads them, and a Lambda cold
    # start does not pay for them before the first invocation.
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES take precedence over this default.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    if processor is not None:
        provider.add_span_processor(processor)
    elif exports_spans(os.environ):
        # Only where spans are exported: protobuf and its HTTP stack are heavy.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        # Spans still give every log line its trace_id; nothing is sent anywhere.
        log.info("no OTLP endpoint configured: spans are not exported")
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    _configured_in = os.getpid()


def sdk_disabled(environ: Mapping[str, str]) -> bool:
    """OTEL_SDK_DISABLED=true: no provider, no instrumentation, spans are no-ops."""
    return environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exports_spans(environ: Mapping[str, str]) -> bool:
    """Export only where a collector is named: a guessed localhost one would log errors forever."""
    return any(environ.get(name) for name in ENDPOINT_VARIABLES)


def flush_spans(timeout_millis: int = 5_000) -> None:
    """Export what is buffered, e.g. before the process exits."""
    provider = trace.get_tracer_provider()
    # The SDK's provider has force_flush; the API's default (tracing off) has not.
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


def trace_context(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current trace and span ids on every line logged inside a span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
