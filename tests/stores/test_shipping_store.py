from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from domain.faults import CarrierBehaviour
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from domain.services import Service
from stores.database import Clock, InvalidRequestError, StepOutOfOrderError
from stores.shipping import (
    AlreadyDispatchedError,
    CarrierRejectedError,
    OutboxState,
    ShipmentClosedError,
    ShipmentState,
    ShippingStore,
)
from tests.stores.conftest import Locate

Advance = Callable[[timedelta], None]

ADDRESS = "Ada Lovelace, 1 Analytical Way, 10115 Berlin, DE"
SIGNALS = CarrierSignals(workflow_id="shipment-order-1")
PROMPT = CarrierBehaviour(pickup_after=timedelta(minutes=5), deliver_after=timedelta(hours=1))
LEASE = timedelta(seconds=30)
AT_ONCE = CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(0))


def dispatched(
    store: ShippingStore, carrier: CarrierBehaviour = PROMPT, order_id: str = "order-1"
) -> str:
    """Book and dispatch an order (order-1); returns its tracking number."""
    store.book(order_id, ADDRESS, 1)
    signals = CarrierSignals(workflow_id=f"shipment-{order_id}")
    return store.dispatch(order_id, signals, carrier).tracking_number


def report(tracking: str, kind: CarrierEventKind, clock: Clock) -> CarrierReport:
    return CarrierReport(order_id="order-1", tracking_number=tracking, kind=kind, at=clock())


def state(store: ShippingStore) -> ShipmentState:
    shipment = store.shipment("order-1")
    assert shipment is not None
    return shipment.state


def test_a_repeated_booking_returns_the_same_shipment(shipping: ShippingStore) -> None:
    first = shipping.book("order-1", ADDRESS, 2)
    assert first == shipping.book("order-1", ADDRESS, 2)
    assert first.tracking_number.startswith("TRK")


def test_a_rejected_booking_books_nothing_and_is_not_retryable(shipping: ShippingStore) -> None:
    with pytest.raises(CarrierRejectedError, match="no carrier takes") as rejected:
        shipping.book("order-1", ADDRESS, 1, simulate_rejection=True)

    assert (rejected.value.error_type, rejected.value.retryable) == ("CarrierRejected", False)
    assert shipping.shipment("order-1") is None


def test_booking_again_before_dispatch_changes_the_address(shipping: ShippingStore) -> None:
    first = shipping.book("order-1", ADDRESS, 1)
    second = shipping.book("order-1", "Grace Hopper, 2 Harbour St, 2000 Sydney, AU", 1)
    assert first == second
    shipment = shipping.shipment("order-1")
    assert shipment is not None
    assert shipment.address_line == "Grace Hopper, 2 Harbour St, 2000 Sydney, AU"


def test_the_address_cannot_change_after_dispatch(shipping: ShippingStore) -> None:
    dispatched(shipping)
    with pytest.raises(AlreadyDispatchedError, match="dispatched"):
        shipping.book("order-1", "Somewhere else, 1 Road, 1000 Town, FR", 1)
    # The retry of the original booking is still answered.
    assert shipping.book("order-1", ADDRESS, 1).order_id == "order-1"


def test_dispatch_schedules_the_carrier_reports_once(
    shipping: ShippingStore, clock: Clock, advance: Advance
) -> None:
    shipping.book("order-1", ADDRESS, 1)
    first = shipping.dispatch("order-1", SIGNALS, PROMPT)
    advance(timedelta(seconds=30))
    assert shipping.dispatch("order-1", SIGNALS, PROMPT) == first
    reports = shipping.reports("order-1")
    assert [(r.kind, r.due_at - first.dispatched_at) for r in reports] == [
        (CarrierEventKind.PICKED_UP, timedelta(minutes=5)),
        (CarrierEventKind.DELIVERED, timedelta(minutes=65)),
    ]
    assert {(r.workflow_id, r.signal_name) for r in reports} == {
        ("shipment-order-1", "picked_up"),
        ("shipment-order-1", "delivered"),
    }


def test_a_lost_parcel_never_reports_its_delivery(shipping: ShippingStore) -> None:
    dispatched(shipping, CarrierBehaviour(deliver_after=None))
    assert [r.kind for r in shipping.reports("order-1")] == [CarrierEventKind.PICKED_UP]


def test_dispatch_needs_a_booking(shipping: ShippingStore) -> None:
    with pytest.raises(StepOutOfOrderError, match="before any booking"):
        shipping.dispatch("order-1", SIGNALS, PROMPT)


def test_cancel_a_booking_once_then_refuse_a_late_book_or_dispatch(
    shipping: ShippingStore,
) -> None:
    shipping.book("order-1", ADDRESS, 1)
    assert shipping.cancel("order-1").cancelled is True
    assert shipping.cancel("order-1").cancelled is True
    with pytest.raises(ShipmentClosedError, match="book refused"):
        shipping.book("order-1", ADDRESS, 1)
    with pytest.raises(ShipmentClosedError, match="dispatch refused"):
        shipping.dispatch("order-1", SIGNALS, PROMPT)
    assert shipping.reports("order-1") == []


def test_cancel_with_nothing_booked_leaves_a_tombstone(shipping: ShippingStore) -> None:
    assert shipping.cancel("order-1").cancelled is False
    assert shipping.cancel("order-1").cancelled is False
    with pytest.raises(ShipmentClosedError):
        shipping.book("order-1", ADDRESS, 1)
    assert shipping.shipment("order-1") is None  # a tombstone is not a shipment


def test_a_dispatched_parcel_cannot_be_cancelled(shipping: ShippingStore) -> None:
    dispatched(shipping)
    with pytest.raises(AlreadyDispatchedError, match="cannot cancel"):
        shipping.cancel("order-1")
    assert state(shipping) is ShipmentState.DISPATCHED


def test_carrier_reports_move_the_parcel_forward_once(
    shipping: ShippingStore, clock: Clock
) -> None:
    tracking = dispatched(shipping)
    assert shipping.record_carrier_event(report(tracking, CarrierEventKind.PICKED_UP, clock))
    assert not shipping.record_carrier_event(report(tracking, CarrierEventKind.PICKED_UP, clock))
    assert state(shipping) is ShipmentState.PICKED_UP
    assert shipping.record_carrier_event(report(tracking, CarrierEventKind.DELIVERED, clock))
    assert state(shipping) is ShipmentState.DELIVERED
    assert [e.kind for e in shipping.carrier_events("order-1")] == [
        CarrierEventKind.PICKED_UP,
        CarrierEventKind.DELIVERED,
    ]


def test_a_late_pickup_report_does_not_move_a_delivered_parcel_back(
    shipping: ShippingStore, clock: Clock
) -> None:
    tracking = dispatched(shipping)
    shipping.record_carrier_event(report(tracking, CarrierEventKind.DELIVERED, clock))
    shipping.record_carrier_event(report(tracking, CarrierEventKind.PICKED_UP, clock))
    assert state(shipping) is ShipmentState.DELIVERED


def test_a_report_about_another_parcel_is_refused(shipping: ShippingStore, clock: Clock) -> None:
    with pytest.raises(StepOutOfOrderError, match="not booked"):
        shipping.record_carrier_event(report("TRK0", CarrierEventKind.PICKED_UP, clock))
    dispatched(shipping)
    with pytest.raises(InvalidRequestError, match="TRK0"):
        shipping.record_carrier_event(report("TRK0", CarrierEventKind.PICKED_UP, clock))


def test_mark_lost_is_idempotent_and_spares_a_delivered_parcel(
    shipping: ShippingStore, clock: Clock
) -> None:
    tracking = dispatched(shipping)
    shipping.mark_lost("order-1")
    shipping.mark_lost("order-1")
    assert state(shipping) is ShipmentState.LOST
    shipping.record_carrier_event(report(tracking, CarrierEventKind.DELIVERED, clock))
    assert state(shipping) is ShipmentState.LOST

    shipping.book("order-2", ADDRESS, 1)
    with pytest.raises(StepOutOfOrderError, match="booked"):
        shipping.mark_lost("order-2")


def test_the_outbox_hands_out_reports_when_due(
    shipping: ShippingStore, clock: Clock, advance: Advance
) -> None:
    dispatched(shipping)
    assert shipping.claim_due(clock(), LEASE) == []
    advance(timedelta(minutes=5))
    (pickup,) = shipping.claim_due(clock(), LEASE)
    assert pickup.kind is CarrierEventKind.PICKED_UP
    shipping.mark_sent(pickup.report_id)
    assert shipping.claim_due(clock(), LEASE) == []
    advance(timedelta(hours=1))
    (delivery,) = shipping.claim_due(clock(), LEASE)
    shipping.mark_undeliverable(delivery.report_id, "workflow not found")
    assert [(r.state, r.attempts, r.last_error) for r in shipping.reports("order-1")] == [
        (OutboxState.SENT, 1, None),
        (OutboxState.UNDELIVERABLE, 1, "workflow not found"),
    ]


def test_a_failing_report_is_retried_later_then_given_up(
    shipping: ShippingStore, clock: Clock, advance: Advance
) -> None:
    dispatched(shipping, CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))
    (pickup,) = shipping.claim_due(clock(), LEASE)
    retry = timedelta(seconds=10)
    assert (
        shipping.mark_retry(pickup.report_id, "unavailable", retry_after=retry, max_attempts=2)
        is OutboxState.PENDING
    )
    assert shipping.claim_due(clock(), LEASE) == []
    advance(retry)
    (again,) = shipping.claim_due(clock(), LEASE)
    assert (again.attempts, again.last_error) == (1, "unavailable")
    assert (
        shipping.mark_retry(again.report_id, "still down", retry_after=retry, max_attempts=2)
        is OutboxState.UNDELIVERABLE
    )
    advance(retry)
    assert shipping.claim_due(clock(), LEASE) == []


def test_a_claimed_report_is_one_deliverers_until_its_lease_passes(
    shipping: ShippingStore, locate: Locate, clock: Clock, advance: Advance
) -> None:
    """Two shipping workers, each with its carrier deliverer, over one store."""
    other = ShippingStore(locate(Service.SHIPPING), clock=clock)
    dispatched(shipping, AT_ONCE)

    (pickup,) = shipping.claim_due(clock(), LEASE)  # one report of a parcel at a time
    assert other.claim_due(clock(), LEASE) == []
    shipping.mark_sent(pickup.report_id)
    (delivery,) = shipping.claim_due(clock(), LEASE)
    assert delivery.kind is CarrierEventKind.DELIVERED
    assert other.claim_due(clock(), LEASE) == []
    assert shipping.next_due_at() == clock() + LEASE  # not due again before the claim ends

    advance(LEASE)  # this deliverer stopped before it sent the delivery
    (left,) = other.claim_due(clock(), LEASE)
    assert left.report_id == delivery.report_id


def test_deliverers_claiming_at_once_hand_out_each_report_once(
    shipping: ShippingStore, locate: Locate, clock: Clock
) -> None:
    for n in range(10):
        dispatched(shipping, AT_ONCE, order_id=f"order-{n}")
    deliverers = [ShippingStore(locate(Service.SHIPPING), clock=clock) for _ in range(4)]
    start = threading.Barrier(len(deliverers))

    def claim_all(store: ShippingStore) -> list[int]:
        start.wait()
        claimed: list[int] = []
        while batch := store.claim_due(clock(), LEASE, limit=3):
            claimed += [r.report_id for r in batch]
            for sent in batch:  # as a deliverer does: a parcel's next report waits for it
                store.mark_sent(sent.report_id)
        return claimed

    with ThreadPoolExecutor(len(deliverers)) as pool:
        claims = list(pool.map(claim_all, deliverers))

    handed_out = [report_id for claimed in claims for report_id in claimed]
    assert len(handed_out) == 20  # a pickup and a delivery per order
    assert len(set(handed_out)) == 20  # none twice


def test_a_store_made_before_claims_gets_the_column(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "shipping.sqlite3"
    with closing(sqlite3.connect(path)) as old:
        old.executescript(ShippingStore.SCHEMA.replace("    claimed_until TEXT,\n", ""))

    store = ShippingStore(path, clock=clock)
    dispatched(store, AT_ONCE)

    assert [r.kind for r in store.claim_due(clock(), LEASE)] == [CarrierEventKind.PICKED_UP]
    assert ShippingStore(path, clock=clock).claim_due(clock(), LEASE) == []  # reopened: kept


def test_a_parcels_later_report_waits_while_an_earlier_one_is_in_another_deliverers_hands(
    shipping: ShippingStore, locate: Locate, clock: Clock, advance: Advance
) -> None:
    """Two shipping workers: the pickup is in one's hands; the other must not send the delivery
    before it, or the workflow ends on the delivery and the pickup is never recorded."""
    other = ShippingStore(locate(Service.SHIPPING), clock=clock)
    soon = timedelta(seconds=1)
    dispatched(shipping, CarrierBehaviour(pickup_after=timedelta(0), deliver_after=soon))
    (pickup,) = shipping.claim_due(clock(), LEASE)
    advance(soon)

    assert other.claim_due(clock(), LEASE) == []
    shipping.mark_sent(pickup.report_id)
    assert [r.kind for r in other.claim_due(clock(), LEASE)] == [CarrierEventKind.DELIVERED]


@pytest.mark.parametrize("limit", [1, 100])
def test_a_retried_pickup_goes_out_before_the_delivery_that_fell_due_first(
    shipping: ShippingStore, clock: Clock, advance: Advance, limit: int
) -> None:
    """The pickup failed and cools off past the delivery's time: once both are due, the pickup
    is handed out and the delivery is not (a round sends its reports one after the other, and
    a round of one, or the last place of a full round, would have held the delivery alone)."""
    soon, cool_off = timedelta(seconds=1), timedelta(seconds=10)
    dispatched(shipping, CarrierBehaviour(pickup_after=timedelta(0), deliver_after=soon))
    (pickup,) = shipping.claim_due(clock(), LEASE)
    shipping.mark_retry(pickup.report_id, "unavailable", retry_after=cool_off, max_attempts=3)
    advance(cool_off)

    assert [r.kind for r in shipping.claim_due(clock(), LEASE, limit=limit)] == [
        CarrierEventKind.PICKED_UP
    ]
