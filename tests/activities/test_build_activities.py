"""The activity names are the contract with the workflows of every style (written out here on
purpose: a rename breaks every history in flight), and each activity is its service's."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import activity

from activities.common import activity_name, service_of
from activities.compensations import (
    COMPENSATING_ACTIVITY,
    COMPENSATING_ACTIVITY_NAMES,
    RECORD_RESOLVED_BY_HAND,
)
from activities.events import EventPublisher
from domain.messages.resolution import Compensation
from domain.services import Service
from workers.registry import SERVICES

CONTRACT = {
    Service.ORDERS: {"record_order_placed", "record_order_parked", "record_order_ended"},
    Service.INVENTORY: {
        "reserve_stock",
        "release_stock",
        "consume_stock",
        "record_resolved_by_hand",
    },
    Service.PAYMENTS: {
        "authorize_payment",
        "capture_payment",
        "reverse_payment",
        "record_resolved_by_hand",
    },
    Service.SHIPPING: {
        "book_shipment",
        "dispatch_shipment",
        "cancel_shipment",
        "record_carrier_event",
        "mark_parcel_lost",
    },
    Service.NOTIFICATIONS: {"send_notification"},
}


@pytest.mark.parametrize("service", list(Service))
def test_each_service_registers_its_contract_over_its_own_store(
    tmp_path: Path, service: Service
) -> None:
    registered = SERVICES[service].registered_activities(tmp_path)
    names = set()
    for fn in registered:
        definition = activity._Definition.must_from_callable(fn)
        names.add(definition.name)
    assert names == CONTRACT[service] | {"publish_event"}
    assert [p.name for p in tmp_path.iterdir()] == [f"{service.value}.sqlite3"]


@pytest.mark.parametrize("service", list(Service))
def test_every_activity_a_service_registers_runs_on_its_own_queue(
    tmp_path: Path, service: Service
) -> None:
    """What a workflow calls by reference goes to the queue of the worker that registers it."""
    activities = SERVICES[service].registered_activities(tmp_path)
    registered = [fn for fn in activities if fn.__func__ is not EventPublisher.publish_event]  # type: ignore[attr-defined]

    assert registered, service
    assert {service_of(fn.__func__) for fn in registered} == {service}  # type: ignore[attr-defined]


def test_each_compensation_is_undone_and_resolved_by_its_own_service() -> None:
    assert set(COMPENSATING_ACTIVITY) == set(Compensation)
    for compensation, undo in COMPENSATING_ACTIVITY.items():
        assert service_of(undo) is compensation.service, compensation
    for service, record in RECORD_RESOLVED_BY_HAND.items():
        assert service_of(record) is service
        assert activity_name(record) == "record_resolved_by_hand"
    assert {"release_stock", "reverse_payment", "cancel_shipment"} == COMPENSATING_ACTIVITY_NAMES


def test_a_function_of_no_service_is_refused_by_name() -> None:
    with pytest.raises(LookupError, match="publish_event is no activity of a service"):
        service_of(EventPublisher.publish_event)
