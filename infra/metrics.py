"""Metrics for Prometheus: the Temporal SDK's runtime metrics and the business counters, on one
port per worker process (`--metrics-port PORT` or `ORDERS_METRICS_PORT`; unset or 0: none).

Why one port: a scrape config (or a compose file) names one target per worker. The SDK's own
exporter lives in its Rust core and serves only what the core records, while the business
counters are OpenTelemetry instruments in Python. So the core serves on a private loopback port
and this module's endpoint, `http://<host>:<port>/metrics`, answers with both expositions one
after the other: the Prometheus text format allows that as long as no metric family appears in
both (the core's are `temporal_*`, ours `orders_*`). The core's text is passed through as it is,
so its metric names are exactly the SDK's documented ones.

The runtime metrics come from the `Runtime` a client was connected with: an endpoint's `runtime`
is the one to pass to `infra.client.connect(runtime=...)`, and `client_on_runtime` reconnects an
existing client's target with it when the client was made before the endpoint.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Counter, Meter
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import ServiceClient

METRICS_PORT_ENV = "ORDERS_METRICS_PORT"
METRICS_PATH = "/metrics"
DEMO_METRICS_PORT = 9464
"""The demo's endpoint (OpenTelemetry's conventional Prometheus port), when it is free."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_CORE_SCRAPE_TIMEOUT_SECONDS = 5.0


class MetricsConfigError(ValueError):
    """The metrics port given is not a port number."""


def metrics_port(flag: int | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """The port to serve metrics on: the flag if given, else `ORDERS_METRICS_PORT`; None for
    no endpoint (unset, empty or 0)."""
    if flag is None:
        raw = (os.environ if env is None else env).get(METRICS_PORT_ENV, "").strip()
        if not raw:
            return None
        try:
            flag = int(raw)
        except ValueError:
            raise MetricsConfigError(
                f"{METRICS_PORT_ENV}: not a port number (got {raw!r})"
            ) from None
    if not 0 <= flag <= 65535:
        raise MetricsConfigError(f"metrics port: must be 0 to 65535 (got {flag})")
    return flag or None


# --- business counters -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Business:
    registry: CollectorRegistry
    provider: MeterProvider
    completed: Counter
    cancelled: Counter
    compensations: Counter
    store_conflicts: Counter


@functools.cache
def _business() -> _Business:
    """One MeterProvider per process, read for Prometheus into a registry of its own (not the
    global one, so nothing else's collectors end up in our exposition). Made on first use and
    kept: counters are cumulative for the life of the process, as Prometheus expects."""
    registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader(
        disable_target_info=True, scope_info_enabled=False, registry=registry
    )
    provider = MeterProvider(metric_readers=[reader])
    meter: Meter = provider.get_meter("orders")
    return _Business(
        registry=registry,
        provider=provider,
        completed=meter.create_counter(
            "orders.completed", unit="{order}", description="Orders that ended completed, by style"
        ),
        cancelled=meter.create_counter(
            "orders.cancelled",
            unit="{order}",
            description="Orders that ended cancelled, by reason and style",
        ),
        compensations=meter.create_counter(
            "orders.compensations",
            unit="{compensation}",
            description="Compensations run (release stock, void payment, cancel shipment); "
            "undid=false when there was nothing to undo",
        ),
        store_conflicts=meter.create_counter(
            "orders.store.conflicts",
            unit="{conflict}",
            description="Store writes run again because a concurrent worker's transaction "
            "conflicted with them (PostgreSQL's serialization failures), by operation",
        ),
    )


def meter_provider() -> MeterProvider:
    """The MeterProvider served on the metrics endpoint, for other instruments to join."""
    return _business().provider


def count_order_ended(style: str, status: str, reason: str | None) -> None:
    """Count an order's end where it is recorded (the orders service), whatever its style."""
    business = _business()
    if status == "completed":
        business.completed.add(1, {"style": style})
    else:
        business.cancelled.add(1, {"style": style, "reason": reason or "unknown"})


def count_compensation(compensation: str, *, undid: bool) -> None:
    """Count a compensation that ran to the end; `undid` says whether it found something to undo
    (a saga registers each compensation before its step, so many find nothing)."""
    _business().compensations.add(
        1, {"compensation": compensation, "undid": "true" if undid else "false"}
    )


def count_store_conflict(operation: str) -> None:
    """Count a store write run again after a conflict (`stores.database.retried_on_conflict`);
    `operation` is the store method, `PaymentsStore.capture`."""
    _business().store_conflicts.add(1, {"operation": operation})


def business_exposition() -> bytes:
    return generate_latest(_business().registry)


# --- the endpoint ------------------------------------------------------------------------------


@dataclass
class MetricsEndpoint:
    """A running endpoint: its Runtime (connect the workers' client with it) and its server."""

    runtime: Runtime
    host: str
    port: int
    core_url: str
    _server: ThreadingHTTPServer = dataclasses.field(repr=False)

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}{METRICS_PATH}"

    def exposition(self) -> bytes:
        """What a scrape returns: the business counters, then the SDK runtime's metrics."""
        try:
            with urllib.request.urlopen(self.core_url, timeout=_CORE_SCRAPE_TIMEOUT_SECONDS) as r:
                core: bytes = r.read()
        except OSError as error:
            core = f"# Temporal runtime metrics unavailable: {error}\n".encode()
        return business_exposition() + core

    def close(self) -> None:
        """Stop answering. The Runtime's own loopback server lives as long as the Runtime."""
        global _active
        self._server.shutdown()
        self._server.server_close()
        if _active is self:
            _active = None


_active: MetricsEndpoint | None = None


def active_endpoint() -> MetricsEndpoint | None:
    return _active


def start_metrics_endpoint(port: int, host: str = "0.0.0.0") -> MetricsEndpoint:
    """Serve `/metrics` on `host:port` (raises OSError if the port is taken), with a new Runtime
    whose Prometheus exporter listens on a free loopback port behind it."""
    global _active
    server = ThreadingHTTPServer((host, port), _Handler)
    core_port = _free_loopback_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"127.0.0.1:{core_port}"),
        )
    )
    endpoint = MetricsEndpoint(
        runtime=runtime,
        host=host,
        port=server.server_address[1],
        core_url=f"http://127.0.0.1:{core_port}{METRICS_PATH}",
        _server=server,
    )
    server.endpoint = endpoint  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, name="metrics-endpoint", daemon=True).start()
    _active = endpoint
    return endpoint


async def client_on_runtime(client: Client, runtime: Runtime) -> Client:
    """`client`, or the same target, namespace, converter, interceptors and plugins connected
    anew on `runtime` (a worker reports its SDK metrics through its client's runtime)."""
    if client.service_client.config.runtime is runtime:
        return client
    connection = dataclasses.replace(client.service_client.config, runtime=runtime)
    config = client.config()
    config["service_client"] = await ServiceClient.connect(connection)
    return Client(**config)


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != METRICS_PATH:
            self.send_error(404, f"metrics are at {METRICS_PATH}")
            return
        endpoint: MetricsEndpoint = self.server.endpoint  # type: ignore[attr-defined]
        body = endpoint.exposition()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds are not worth a log line each."""
