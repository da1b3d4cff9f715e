"""The shipping activities: the booking wait that heartbeats, the pivot, and a busy store."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from activities import shipping as shipping_module
from activities.shipping import ShippingActivities
from domain.errors import BusinessError, TransientError
from domain.messages.common import OrderRef
from domain.messages.shipping import (
    BookShipment,
    CarrierEventKind,
    CarrierReport,
    CarrierSignals,
    DispatchShipment,
)
from stores import database
from stores.shipping import ShipmentState, ShippingStore
from tests.support import ADDRESS

ORDER = OrderRef(order_id="order-1")


def book(latency: timedelta = timedelta(0)) -> BookShipment:
    return BookShipment(
        order_id="order-1", address=ADDRESS, parcels=1, simulate_booking_latency=latency
    )


def dispatch() -> DispatchShipment:
    return DispatchShipment(order_id="order-1", report_to=CarrierSignals(workflow_id="wf-1"))


@pytest.fixture
def store(tmp_path: Path) -> ShippingStore:
    return ShippingStore(tmp_path / "shipping.sqlite3")


@pytest.fixture
def shipping(store: ShippingStore) -> ShippingActivities:
    return ShippingActivities(store)


@pytest.fixture
def quick_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shipping_module, "HEARTBEAT_EVERY", timedelta(milliseconds=50))


@pytest.mark.usefixtures("quick_heartbeats")
def test_the_booking_wait_heartbeats_its_progress(
    shipping: ShippingActivities, store: ShippingStore
) -> None:
    env = ActivityEnvironment()
    beats: list[float] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    result = env.run(shipping.book_shipment, book(timedelta(milliseconds=200)))
    assert beats == pytest.approx([0.05, 0.10, 0.15, 0.20])
    assert result.order_id == "order-1"
    assert store.shipment("order-1") is not None


@pytest.mark.usefixtures("quick_heartbeats")
def test_a_retried_booking_resumes_the_wait(shipping: ShippingActivities) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_details=[0.15])
    beats: list[float] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    env.run(shipping.book_shipment, book(timedelta(milliseconds=200)))
    assert beats == pytest.approx([0.20])


@pytest.mark.usefixtures("quick_heartbeats")
def test_a_cancelled_booking_stops_promptly_and_books_nothing(
    shipping: ShippingActivities, store: ShippingStore
) -> None:
    env = ActivityEnvironment()
    waiting = threading.Event()
    env.on_heartbeat = lambda *details: waiting.set()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            env.run(shipping.book_shipment, book(timedelta(minutes=5)))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    assert waiting.wait(timeout=30), "the booking never started waiting for the carrier"
    env.cancel()
    worker.join(timeout=30)  # long before the five-minute booking wait would end
    assert not worker.is_alive(), "the booking did not stop when cancelled"
    assert len(outcome) == 1
    assert isinstance(outcome[0], CancelledError)
    assert store.shipment("order-1") is None


def test_cancel_after_dispatch_is_refused(shipping: ShippingActivities) -> None:
    env = ActivityEnvironment()
    env.run(shipping.book_shipment, book())
    env.run(shipping.dispatch_shipment, dispatch())
    with pytest.raises(ApplicationError, match="dispatched") as raised:
        env.run(shipping.cancel_shipment, ORDER)
    assert raised.value.type == BusinessError.ALREADY_DISPATCHED
    assert raised.value.non_retryable


def test_a_zombie_booking_after_cancel_is_refused(shipping: ShippingActivities) -> None:
    env = ActivityEnvironment()
    assert env.run(shipping.cancel_shipment, ORDER).cancelled is False
    with pytest.raises(ApplicationError, match="book refused") as raised:
        env.run(shipping.book_shipment, book())
    assert raised.value.non_retryable


def test_carrier_reports_and_a_lost_parcel(
    shipping: ShippingActivities, store: ShippingStore
) -> None:
    env = ActivityEnvironment()
    env.run(shipping.book_shipment, book())
    tracking = env.run(shipping.dispatch_shipment, dispatch()).tracking_number
    picked_up = CarrierReport(
        order_id="order-1",
        tracking_number=tracking,
        kind=CarrierEventKind.PICKED_UP,
        at=datetime.now(UTC),
    )
    env.run(shipping.record_carrier_event, picked_up)
    env.run(shipping.record_carrier_event, picked_up)
    env.run(shipping.mark_parcel_lost, ORDER)
    shipment = store.shipment("order-1")
    assert shipment is not None
    assert shipment.state is ShipmentState.LOST
    assert len(store.carrier_events("order-1")) == 1


def test_a_busy_store_is_a_retryable_failure(
    shipping: ShippingActivities, store: ShippingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT", timedelta(milliseconds=50))
    other = sqlite3.connect(store.where, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ApplicationError) as raised:
            ActivityEnvironment().run(shipping.cancel_shipment, ORDER)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert raised.value.type == TransientError.STORE_BUSY
    assert not raised.value.non_retryable
    assert "order-1" in raised.value.message
