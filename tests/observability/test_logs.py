"""Structured logs over a whole scenario run: every line about an order says which order, which
workflow and which service, in JSON and in text; and no payment token is ever written."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from domain.scenarios import SCENARIOS
from infra import logs
from tests.observability.conftest import ObservedRun
from tests.support import TOKEN

TOKENS = {
    TOKEN,
    *(scenario.order("any-order").payment_token.get_secret_value() for scenario in SCENARIOS),
}


def entries(run: ObservedRun) -> list[dict[str, object]]:
    return [json.loads(line) for line in run.log_lines]


def about_an_order(entry: dict[str, object], order_ids: set[str]) -> str | None:
    text = json.dumps(entry)
    return next((order_id for order_id in order_ids if order_id in text), None)


def test_every_line_about_an_order_says_its_order_workflow_and_service(
    observed_run: ObservedRun,
) -> None:
    concerned: set[str] = set()
    for entry in entries(observed_run):
        if entry["level"] == "DEBUG":  # SDK internals (payload dumps): the operator's level is INFO
            continue
        order_id = about_an_order(entry, observed_run.order_ids)
        if order_id is None:
            continue
        concerned.add(order_id)
        assert entry["order_id"] == order_id, entry
        assert isinstance(entry["workflow_id"], str), entry
        assert entry["workflow_id"].endswith(order_id), entry
        assert entry["service"] in {"orders", "inventory", "payments", "shipping", "notifications"}
    assert concerned == observed_run.order_ids  # every order has its lines


UNLOGGED = frozenset({"publish_event"})
"""Activities that write no line of their own (a publish is in the participants' queries)."""


def test_every_activity_an_order_ran_says_so_in_its_services_log(
    observed_run: ObservedRun,
) -> None:
    """Per order: the (activity, service) pairs of the INFO lines are exactly those of the
    activities its workflows scheduled, the service being the activity's task queue."""
    logged: dict[str, set[tuple[str, str]]] = {order_id: set() for order_id in observed_run.orders}
    for entry in entries(observed_run):
        activity_type = entry.get("activity_type")
        if entry["level"] == "DEBUG" or not isinstance(activity_type, str):
            continue
        logged[str(entry["order_id"])].add((activity_type, str(entry["service"])))
    ran = {
        order_id: {
            (activity.activity_type, activity.task_queue)
            for activity in order.activities
            if activity.activity_type not in UNLOGGED
        }
        for order_id, order in observed_run.orders.items()
    }

    assert logged == ran


def test_no_payment_token_is_ever_written_nor_even_logged(observed_run: ObservedRun) -> None:
    assert TOKENS  # the scenarios' and the tests' own
    written = "\n".join(observed_run.log_lines)
    # DEBUG is on: every order's id is in the SDK's own lines too, where a payload could leak
    debug = "\n".join(e for e in observed_run.log_lines if '"level": "DEBUG"' in e)
    assert {order_id for order_id in observed_run.order_ids if order_id in debug} == (
        observed_run.order_ids
    )
    for token in TOKENS:
        assert token not in written
    # Stronger: not even the records before masking hold one (the mask is the last defence).
    formatter = logging.Formatter()
    for record in observed_run.records:
        text = record.getMessage() + str(record.__dict__)
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        for token in TOKENS:
            assert token not in text, record


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("temporalio.activity", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def _format(fmt: str, record: logging.LogRecord, services: tuple[str, ...] = ()) -> str:
    stream = io.StringIO()
    handler = logs.configure(fmt=fmt, stream=stream, services=services)
    try:
        handler.handle(record)
    finally:
        logs.remove(handler)
    return stream.getvalue().strip()


ACTIVITY = {
    "temporal_activity": {
        "activity_type": "authorize_payment",
        "task_queue": "payments",
        "workflow_id": "payments-happy-4f350d52",
        "attempt": 1,
    }
}


def test_a_json_line_has_the_same_keys_always() -> None:
    line = json.loads(_format("json", _record("order happy-4f350d52: authorized", **ACTIVITY)))
    assert line["service"] == "payments"
    assert line["order_id"] == "happy-4f350d52"
    assert line["workflow_id"] == "payments-happy-4f350d52"
    assert line["activity_type"] == "authorize_payment"
    bare = json.loads(_format("json", _record("nothing to do with an order")))
    assert (bare["order_id"], bare["workflow_id"], bare["service"]) == (None, None, None)


def test_a_text_line_carries_the_fields_as_key_value_pairs() -> None:
    line = _format("text", _record("order happy-4f350d52: authorized", **ACTIVITY))
    assert re.search(
        r" INFO service=payments order=happy-4f350d52 workflow=payments-happy-4f350d52 "
        r"temporalio\.activity: order happy-4f350d52: authorized$",
        line,
    ), line


@pytest.mark.parametrize(
    ("workflow_id", "order_id"),
    [
        ("order-happy-1", "happy-1"),
        ("shipment-happy-1", "happy-1"),
        ("inventory-happy-1", "happy-1"),
        ("handoff-lost-parcel-9", "lost-parcel-9"),
        ("something-else", None),
    ],
)
def test_the_order_is_read_from_the_workflow_id(workflow_id: str, order_id: str | None) -> None:
    assert logs.order_of_workflow(workflow_id) == order_id


def test_the_carrier_simulators_lines_are_shippings_with_the_workflow_it_reported_to() -> None:
    record = _record("carrier simulator: order happy-1: sent delivered to shipment-happy-1")
    record.name = "workers.carrier_simulator"
    line = json.loads(_format("json", record))
    assert (line["service"], line["order_id"], line["workflow_id"]) == (
        "shipping",
        "happy-1",
        "shipment-happy-1",
    )


def test_a_process_of_one_service_names_it_on_every_line() -> None:
    line = json.loads(_format("json", _record("worker started"), services=("payments",)))
    assert line["service"] == "payments"


def test_anything_like_a_token_is_masked_in_both_formats() -> None:
    for fmt in ("json", "text"):
        line = _format(fmt, _record(f"oops {TOKEN} leaked", **ACTIVITY))
        assert TOKEN not in line
        assert "tok_***" in line


def test_an_unknown_format_falls_back_to_text_and_says_so() -> None:
    assert logs.log_format({"ORDERS_LOG_FORMAT": "JSON"}) == ("json", None)
    assert logs.log_format({}) == ("text", None)
    chosen, problem = logs.log_format({"ORDERS_LOG_FORMAT": "xml"})
    assert chosen == "text"
    assert "ORDERS_LOG_FORMAT" in str(problem)
