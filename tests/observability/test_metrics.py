"""The metrics endpoint of a worker process: it answers during a run with the Temporal SDK's
runtime metrics and the business counters, and the counters say how the orders ended."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.metrics import MetricsConfigError, metrics_port
from stores.effects import effects_of
from tests.observability.conftest import ObservedRun

Key = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[Key, float]:
    """`{(sample name, sorted labels): value}` of a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def business_delta(run: ObservedRun, name: str) -> Counter[tuple[tuple[str, str], ...]]:
    before, after = samples(run.business_before), samples(run.scrape_after)
    delta: Counter[tuple[tuple[str, str], ...]] = Counter()
    for (sample, labels), value in after.items():
        if sample == name:
            delta[labels] += int(value - before.get((sample, labels), 0))
    return +delta


def test_the_endpoint_answers_during_the_run_with_the_sdk_runtime_metrics(
    observed_run: ObservedRun,
) -> None:
    during = samples(observed_run.scrape_during)
    names = {name for name, _ in during}
    assert "temporal_workflow_task_execution_latency_count" in names, sorted(names)[:40]
    assert "temporal_activity_execution_latency_count" in names
    assert "orders_completed_total" in names or "orders_cancelled_total" in names

    # Served as the SDK names them (the parser above would add `_total` to counters).
    completed = [
        float(line.rsplit(" ", 1)[1])
        for line in observed_run.scrape_after.splitlines()
        if line.startswith("temporal_workflow_completed{")
    ]
    assert sum(completed) >= len(observed_run.runs)


def test_orders_completed_and_cancelled_are_counted_by_style_and_reason(
    observed_run: ObservedRun,
) -> None:
    expected_completed: Counter[tuple[tuple[str, str], ...]] = Counter()
    expected_cancelled: Counter[tuple[tuple[str, str], ...]] = Counter()
    for run in observed_run.runs:
        assert run.as_expected, (run.scenario.name, run.placed.style, run.outcome)
        style = run.placed.style.value
        if run.outcome.status == "completed":
            expected_completed[(("style", style),)] += 1
        else:
            reason = run.outcome.reason.value if run.outcome.reason else "unknown"
            expected_cancelled[(("reason", reason), ("style", style))] += 1

    assert business_delta(observed_run, "orders_completed_total") == expected_completed
    assert business_delta(observed_run, "orders_cancelled_total") == expected_cancelled
    by_reason = Counter[str]()
    for labels, count in business_delta(observed_run, "orders_cancelled_total").items():
        by_reason[dict(labels)["reason"]] += count
    assert by_reason["payment_declined"] == 3  # one per style
    assert by_reason["customer_cancelled"] == 3


def test_compensations_are_counted_and_at_least_every_undo_the_stores_show(
    observed_run: ObservedRun,
) -> None:
    effects = [effects_of(observed_run.data_dir, order_id) for order_id in observed_run.order_ids]
    released = sum(any(state == "released" for *_, state in e.reservations) for e in effects)
    voided = sum(any(kind == "void" for kind, _ in e.ledger) for e in effects)
    counted = business_delta(observed_run, "orders_compensations_total")
    undid = {
        dict(labels)["compensation"]: n
        for labels, n in counted.items()
        if dict(labels)["undid"] == "true"
    }

    assert released > 0
    assert voided > 0
    assert undid.get("release_stock", 0) >= released
    assert undid.get("void_payment", 0) >= voided
    # No scenario books a shipment and then fails before dispatch, so cancel_shipment may not run.
    assert {dict(labels)["compensation"] for labels in counted} <= {
        "release_stock",
        "void_payment",
        "cancel_shipment",
    }


@pytest.mark.parametrize(
    ("flag", "env", "port"),
    [
        (None, {}, None),
        (None, {"ORDERS_METRICS_PORT": "0"}, None),
        (None, {"ORDERS_METRICS_PORT": " 9464 "}, 9464),
        (9100, {"ORDERS_METRICS_PORT": "9464"}, 9100),
        (0, {"ORDERS_METRICS_PORT": "9464"}, None),
    ],
)
def test_the_flag_wins_over_the_variable_and_zero_means_no_endpoint(
    flag: int | None, env: dict[str, str], port: int | None
) -> None:
    assert metrics_port(flag, env) == port


@pytest.mark.parametrize("env", [{"ORDERS_METRICS_PORT": "http"}, {"ORDERS_METRICS_PORT": "70000"}])
def test_a_bad_port_is_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(MetricsConfigError, match="port"):
        metrics_port(None, env)
