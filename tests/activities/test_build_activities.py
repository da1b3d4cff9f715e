"""The activity names are the contract with the workflows of every style."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import activity

from activities import build_activities
from domain.services import Service

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
    registered = build_activities(service, tmp_path)
    names = set()
    for fn in registered:
        definition = activity._Definition.must_from_callable(fn)
        names.add(definition.name)
    assert names == CONTRACT[service] | {"publish_event"}
    assert [p.name for p in tmp_path.iterdir()] == [f"{service.value}.sqlite3"]
