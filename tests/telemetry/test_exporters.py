"""Which exporters the standard OTEL_* variables choose, and the service name spans carry."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from domain.services import Service
from infra.telemetry import (
    MULTI_SERVICE_NAME,
    TracingConfigError,
    build_exporter,
    build_tracer_provider,
    exporter_names,
    service_name,
    worker_service_name,
)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("otlp", ["otlp"]),
        ("console", ["console"]),
        ("none", []),
        (" Console , otlp ", ["console", "otlp"]),
        ("", []),
    ],
)
def test_exporter_names_follow_otel_traces_exporter(value: str, names: list[str]) -> None:
    assert exporter_names({"OTEL_TRACES_EXPORTER": value}) == names


def test_nothing_is_exported_when_the_variable_is_unset() -> None:
    assert exporter_names({}) == []


@pytest.mark.parametrize("value", ["jaeger", "zipkin,console", "none,console"])
def test_an_unknown_or_contradictory_exporter_is_a_clear_error(value: str) -> None:
    with pytest.raises(TracingConfigError, match="OTEL_TRACES_EXPORTER"):
        exporter_names({"OTEL_TRACES_EXPORTER": value})


def test_unknown_exporter_error_names_the_choices() -> None:
    with pytest.raises(TracingConfigError, match=r"unknown exporter jaeger; use otlp, console"):
        exporter_names({"OTEL_TRACES_EXPORTER": "jaeger"})


def test_console_and_otlp_build_their_exporters(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(build_exporter("console", {}), ConsoleSpanExporter)
    # the OTLP exporter reads its endpoint from the environment itself
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    exporter = build_exporter("otlp", {})
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"


def test_otlp_over_grpc_is_refused_as_not_installed() -> None:
    with pytest.raises(TracingConfigError, match="http/protobuf"):
        build_exporter("otlp", {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_service_name_prefers_otel_service_name_then_the_configured_one() -> None:
    assert service_name("inventory", {"OTEL_SERVICE_NAME": "edge"}) == "edge"
    assert service_name("inventory", {}) == "inventory"
    assert service_name(None, {}) not in ("", "inventory")  # the command's module


def test_a_worker_is_named_after_its_one_service_else_orders_workers() -> None:
    assert worker_service_name([Service.INVENTORY]) == "inventory"
    assert worker_service_name([Service.INVENTORY, Service.INVENTORY]) == "inventory"
    assert worker_service_name(list(Service)) == MULTI_SERVICE_NAME


def test_the_provider_names_the_service_on_every_span() -> None:
    provider = build_tracer_provider("payments", [])
    assert provider.resource.attributes["service.name"] == "payments"
