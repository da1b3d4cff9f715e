"""Tracing: one OpenTelemetry trace per order, from the starter through every workflow, activity,
child workflow, update and event signal, across the services' processes.

`temporalio.contrib.opentelemetry.TracingInterceptor` does the work: it carries the context in a
Temporal header on every start, signal, signal-with-start, update and activity, so a participant
started by an event published from another participant's activity continues that trace. This
module only chooses where the spans go, by the standard OpenTelemetry variables:

- `OTEL_TRACES_EXPORTER`: `otlp` (OTLP over HTTP), `console` (one JSON line per span on stderr,
  so a command's own output on stdout stays clean), `none`; a comma-separated list for several.
  Unset means `none` (see DEFAULT_EXPORTER for why).
- `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, read by the OTLP exporter.
- `OTEL_SERVICE_NAME`; else the name a worker configured (`configure_tracing("inventory")`),
  else the command's module (`starters.place_order`).

The interceptors are installed on every client whatever the exporter: with no exporter the
OpenTelemetry API's no-op tracer still passes an incoming trace context on, so a process that
exports nothing does not cut the trace of processes that do.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import opentelemetry.trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from temporalio import activity
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
)
from temporalio.worker import Interceptor as WorkerInterceptor

from domain.services import Service

ENV_EXPORTER = "OTEL_TRACES_EXPORTER"
ENV_SERVICE_NAME = "OTEL_SERVICE_NAME"
ENV_OTLP_PROTOCOL = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")

DEFAULT_EXPORTER = "none"
"""Recording is off unless asked for, because it costs measurable time:
`benchmarks/tracing_overhead.py` (60 happy orders, 20 per style, workers and starter in one
process) measured +8 % CPU per order recording into memory and +13 to 17 % writing console JSON
(about 20-40 ms per order, 68 spans), and in one of two runs +25 % order latency on a busy
machine. Passing the context on with nothing recorded (the interceptors with no exporter,
always installed) cost +3 to 5 % CPU, within the noise, and no wall time. Also, the OpenTelemetry
default `otlp` would log a failed export every few seconds wherever no collector runs."""

KNOWN_EXPORTERS = ("otlp", "console", "none")
MULTI_SERVICE_NAME = "orders-workers"
"""The service name of a worker process that serves more than one service."""
FALLBACK_SERVICE_NAME = "order-fulfilment"
TASK_QUEUE_ATTRIBUTE = "temporalTaskQueue"
"""Added to each `RunActivity` span: which service ran it (the contrib spans do not say)."""


class TracingConfigError(ValueError):
    """An OTEL_* variable asks for something this project cannot do."""


def exporter_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The exporters `OTEL_TRACES_EXPORTER` names, checked; [] for `none`."""
    environ = os.environ if environ is None else environ
    text = environ.get(ENV_EXPORTER, "").strip() or DEFAULT_EXPORTER
    names = list(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in KNOWN_EXPORTERS]
    if unknown:
        raise TracingConfigError(
            f"{ENV_EXPORTER}={text!r}: unknown exporter {', '.join(unknown)}; "
            f"use {', '.join(KNOWN_EXPORTERS)} (or a comma-separated list)"
        )
    if "none" in names and len(names) > 1:
        raise TracingConfigError(f"{ENV_EXPORTER}={text!r}: `none` cannot be combined")
    return [name for name in names if name != "none"]


def build_exporter(name: str, environ: Mapping[str, str] | None = None) -> SpanExporter:
    """One exporter by its `OTEL_TRACES_EXPORTER` name."""
    environ = os.environ if environ is None else environ
    if name == "console":
        return ConsoleSpanExporter(out=sys.stderr, formatter=_one_line)
    if name == "otlp":
        protocol = next((environ[key] for key in ENV_OTLP_PROTOCOL if environ.get(key)), "")
        if protocol and protocol != "http/protobuf":
            raise TracingConfigError(
                f"OTLP protocol {protocol!r} is not installed: only http/protobuf "
                "(opentelemetry-exporter-otlp-proto-http); unset OTEL_EXPORTER_OTLP_PROTOCOL"
            )
        # Imported here: it pulls in requests and protobuf, which `none` never needs.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*
    raise TracingConfigError(f"unknown exporter {name!r}")


def _one_line(span: ReadableSpan) -> str:
    """A span as one JSON line: greppable by trace id, unlike the SDK's indented default."""
    return str(span.to_json(indent=None)) + os.linesep


def service_name(configured: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`OTEL_SERVICE_NAME`, else the configured name, else the running command's module."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_SERVICE_NAME, "").strip() or configured or _command_name()


def _command_name() -> str:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    return str(name) if name and name != "__main__" else FALLBACK_SERVICE_NAME


def worker_service_name(services: Iterable[Service]) -> str:
    """A worker process is named after its service when it serves one, else `orders-workers`."""
    chosen = list(dict.fromkeys(services))
    return chosen[0].value if len(chosen) == 1 else MULTI_SERVICE_NAME


def build_tracer_provider(
    name: str, exporters: Sequence[tuple[str, SpanExporter]]
) -> TracerProvider:
    """A provider sending each span to every exporter. The console exporter gets a simple
    processor (a span prints as it ends, and nothing is lost when a command ends with
    `os._exit`); network exporters get a batch processor, so a workflow task never waits on
    the collector (workflow spans are recorded on the workflow's thread)."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    for kind, exporter in exporters:
        if kind == "console":
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class _State:
    configured = False
    provider: TracerProvider | None = None


_state = _State()
_lock = threading.Lock()


def configure_tracing(
    service: str | None = None, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Set up this process's tracer provider from the OTEL_* variables, once: later calls
    (`connect()` makes one on every connection) return what the first set up, so a worker calls
    this with its service name before it connects. Returns None when nothing is exported.
    Raises TracingConfigError for an exporter this project does not know."""
    with _lock:
        if _state.configured:
            return _state.provider
        environ = os.environ if environ is None else environ
        names = exporter_names(environ)
        if names:
            exporters = [(name, build_exporter(name, environ)) for name in names]
            provider = build_tracer_provider(service_name(service, environ), exporters)
            opentelemetry.trace.set_tracer_provider(provider)
            atexit.register(shutdown_tracing)  # for a normal exit; `infra.cli` exits otherwise
            _state.provider = provider
        _state.configured = True
        return _state.provider


@contextlib.contextmanager
def hidden_from_child_processes() -> Iterator[None]:
    """`OTEL_TRACES_EXPORTER` unset while a child process starts: the Temporal dev server (Go)
    reads it too, refuses to start on `console`, and on `otlp` would export spans of its own."""
    saved = os.environ.pop(ENV_EXPORTER, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[ENV_EXPORTER] = saved


def shutdown_tracing() -> None:
    """Export what is still batched and stop. Call it before a process ends: a command ends with
    `os._exit`, which skips atexit, and a batch processor would lose its last spans."""
    with _lock:
        provider, _state.provider = _state.provider, None
    if provider is not None:
        provider.force_flush(timeout_millis=5_000)
        provider.shutdown()


def tracing_interceptors(
    tracer_provider: opentelemetry.trace.TracerProvider | None = None,
) -> list[ClientInterceptor]:
    """What every client gets, and through it every worker built from it. Without a provider the
    global one is used (set by `configure_tracing`, or the no-op that only passes context on)."""
    tracer = (
        tracer_provider.get_tracer(__name__)
        if tracer_provider is not None
        else opentelemetry.trace.get_tracer(__name__)
    )
    return [TracingInterceptor(tracer), _TaskQueueAttribute()]


class _TaskQueueAttribute(ClientInterceptor, WorkerInterceptor):
    """Names the task queue (the service) on each activity's span. Listed after the
    TracingInterceptor, it runs inside that interceptor's `RunActivity` span."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TaskQueueActivityInbound(next)


class _TaskQueueActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        span = opentelemetry.trace.get_current_span()
        if span.is_recording():
            span.set_attribute(TASK_QUEUE_ATTRIBUTE, activity.info().task_queue)
        return await super().execute_activity(input)
