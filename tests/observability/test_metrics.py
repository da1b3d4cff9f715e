"""The metrics endpoint of a worker process: it answers during a run with the Temporal SDK's
runtime metrics and the business counters, and the counters say how the orders ended."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import WorkflowExecutionStatus

from domain.status import CancelReason
from infra.metrics import MetricsConfigError, metrics_port
from stores.effects import effects_of
from tests.observability.conftest import ObservedRun

Key = tuple[str, tuple[tuple[str, str], ...]]
LOST, DECLINED = CancelReason.LOST_IN_TRANSIT, CancelReason.PAYMENT_DECLINED


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


def sdk_counter(text: str, name: str) -> Counter[str]:
    """An SDK counter by workflow type, as served (the SDK names it without `_total`)."""
    counted: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (name, f"{name}_total"):
                counted[sample.labels["workflow_type"]] += int(sample.value)
    return +counted


def test_the_endpoint_answers_during_the_run_with_the_sdk_runtime_metrics(
    observed_run: ObservedRun,
) -> None:
    during = samples(observed_run.scrape_during)
    names = {name for name, _ in during}
    assert "temporal_workflow_task_execution_latency_count" in names, sorted(names)[:40]
    assert "temporal_activity_execution_latency_count" in names
    # scraped once the first order had ended: its outcome is counted already
    first = observed_run.first_done.outcome
    assert f"orders_{first.status}_total" in names, (first, sorted(names))


def test_the_sdk_counts_each_workflow_that_completed_once(observed_run: ObservedRun) -> None:
    """temporal_workflow_completed, by workflow type, is what the server says completed."""
    completed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for order in observed_run.orders.values():
        for workflow_type, status in order.workflows.values():
            if status is WorkflowExecutionStatus.COMPLETED:
                completed[workflow_type] += 1
            elif status is WorkflowExecutionStatus.FAILED:
                failed[workflow_type] += 1

    assert sdk_counter(observed_run.scrape_after, "temporal_workflow_completed") == completed
    assert sdk_counter(observed_run.scrape_after, "temporal_workflow_failed") == failed


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


def compensations_in_histories(run: ObservedRun) -> Counter[tuple[tuple[str, str], ...]]:
    """Each compensation activity that completed, labelled as the counter labels it: whether it
    found something to undo, read from its result (a refund of a lost parcel moves forward and
    is no compensation)."""
    counted: Counter[tuple[tuple[str, str], ...]] = Counter()
    for order in run.orders.values():
        for activity in order.activities:
            if not activity.completed:
                continue
            result = activity.result
            match activity.activity_type:
                case "release_stock":
                    name, undid = "release_stock", result["released_units"] > 0
                case "reverse_payment" if result["action"] != "refunded":
                    name, undid = "void_payment", result["action"] == "voided"
                case "cancel_shipment":
                    name, undid = "cancel_shipment", bool(result["cancelled"])
                case _:
                    continue
            counted[(("compensation", name), ("undid", "true" if undid else "false"))] += 1
    return counted


def test_each_compensation_is_counted_once_with_whether_it_undid_anything(
    observed_run: ObservedRun,
) -> None:
    counted = business_delta(observed_run, "orders_compensations_total")

    assert counted == compensations_in_histories(observed_run)
    effects = [effects_of(observed_run.data_dir, order_id) for order_id in observed_run.order_ids]
    released = sum(any(state == "released" for *_, state in e.reservations) for e in effects)
    voided = sum(any(kind == "void" for kind, _ in e.ledger) for e in effects)
    undid = {
        dict(labels)["compensation"]: n
        for labels, n in counted.items()
        if ("undid", "true") in labels
    }
    assert (undid.get("release_stock", 0), undid.get("void_payment", 0)) == (released, voided)
    # not nothing: every order cancelled with stock held (all but out of stock and lost in
    # transit) released it, and those with a payment authorized (all but a decline) voided it
    held = [
        run
        for run in observed_run.runs
        if run.scenario.expected_reason not in (None, CancelReason.OUT_OF_STOCK, LOST)
    ]
    assert released == len(held)
    assert voided == len([run for run in held if run.scenario.expected_reason is not DECLINED])


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
