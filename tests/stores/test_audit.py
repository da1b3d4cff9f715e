"""The audit against a consistent world, and against worlds broken on purpose, one rule each."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from domain.catalog import Product
from domain.faults import CarrierBehaviour
from domain.messages.audit import AuditReport, AuditRule, OpenOrder, ParkedOrder, Violation
from domain.messages.inventory import StockLine
from domain.messages.notifications import NotificationKind, SendNotification
from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import (
    Compensation,
    ParkedCompensation,
    RecordOrderParked,
    RecordResolvedByHand,
)
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from domain.services import Service, Style
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores import store_path
from stores.audit import audit_stores
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from stores.shipping import ShippingStore

AT = datetime(2030, 1, 1, tzinfo=UTC)
TOTAL = 3 * 1_000
PROMPT = CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(0))


class World:
    """All five stores in one data dir, and the effects a well-behaved order leaves in them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.inventory = InventoryStore(
            store_path(data_dir, Service.INVENTORY),
            catalog=[Product("AA-1", "Widget", 1_000, 10), Product("BB-2", "Gadget", 500, 10)],
        )
        self.payments = PaymentsStore(store_path(data_dir, Service.PAYMENTS))
        self.shipping = ShippingStore(store_path(data_dir, Service.SHIPPING))
        self.notifications = NotificationsStore(store_path(data_dir, Service.NOTIFICATIONS))
        self.orders = OrdersStore(store_path(data_dir, Service.ORDERS))

    def place(self, order_id: str) -> None:
        self.orders.record_placed(
            RecordOrderPlaced(
                order_id=order_id,
                style=Style.ORCHESTRATED,
                workflow_id=f"order-{order_id}",
                customer_id="cust-1",
                total_cents=TOTAL,
                placed_at=AT,
            )
        )
        self.inventory.reserve(order_id, [StockLine(sku="AA-1", quantity=3)])
        self.payments.authorize(order_id, TOTAL, SecretStr("tok_visa_4242"))
        self.shipping.book(order_id, "Ada, 1 Way, 10115 Berlin, DE", 1)

    def dispatch(self, order_id: str, *, consume: bool = True, capture: bool = True) -> None:
        self.shipping.dispatch(order_id, CarrierSignals(workflow_id=f"order-{order_id}"), PROMPT)
        if consume:
            self.inventory.consume(order_id)
        if capture:
            self.payments.capture(order_id)

    def carrier_reports(self, order_id: str, *kinds: CarrierEventKind) -> None:
        shipment = self.shipping.shipment(order_id)
        assert shipment is not None
        assert shipment.tracking_number is not None
        for kind in kinds:
            self.shipping.record_carrier_event(
                CarrierReport(
                    order_id=order_id, tracking_number=shipment.tracking_number, kind=kind, at=AT
                )
            )

    def complete(self, order_id: str, skip: Collection[str] = ()) -> None:
        self.place(order_id)
        self.dispatch(order_id, consume="consume" not in skip, capture="capture" not in skip)
        if "deliver" not in skip:
            self.carrier_reports(order_id, CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED)
        self.end(order_id, "completed", None, notify="notify" not in skip)

    def cancel(self, order_id: str, skip: Collection[str] = ()) -> None:
        """Cancelled before dispatch, compensated in every service (but the skipped steps)."""
        self.place(order_id)
        self.cancel_placed(order_id, skip)

    def cancel_placed(self, order_id: str, skip: Collection[str] = ()) -> None:
        """`cancel`, of an order placed already."""
        if "release" not in skip:
            self.inventory.release(order_id)
        if "reverse" not in skip:
            self.payments.reverse(order_id)
        if "cancel_shipment" not in skip:
            self.shipping.cancel(order_id)
        self.end(
            order_id, "cancelled", CancelReason.CUSTOMER_CANCELLED, notify="notify" not in skip
        )

    def end(self, order_id: str, status: str, reason: CancelReason | None, notify: bool) -> None:
        if notify:
            kind = NotificationKind.ORDER_DELIVERED
            if status == "cancelled":
                kind = NotificationKind.ORDER_CANCELLED
            self.notifications.send(
                SendNotification(
                    order_id=order_id, kind=kind, recipient="ada@example.com", subject="s", body="b"
                )
            )
        outcome = OrderOutcome.model_validate(
            {"order_id": order_id, "status": status, "reason": reason, "total_cents": TOTAL}
        )
        self.orders.record_ended(
            RecordOrderEnded(style=Style.ORCHESTRATED, outcome=outcome, ended_at=AT)
        )

    def park(self, order_id: str, *compensations: Compensation) -> list[ParkedCompensation]:
        parked = [
            ParkedCompensation(compensation=c, why=f"{c.what}: refused", since=AT)
            for c in compensations
        ]
        self.orders.record_parked(RecordOrderParked(order_id=order_id, parked=parked, at=AT))
        return parked

    def resolve_by_hand(self, order_id: str, compensation: Compensation) -> RecordResolvedByHand:
        resolution = RecordResolvedByHand(
            order_id=order_id, compensation=compensation, resolved_by="ada", note="done", at=AT
        )
        store = self.inventory if compensation.service is Service.INVENTORY else self.payments
        store.record_resolved_by_hand(resolution)
        return resolution

    def tamper(self, service: Service, sql: str) -> None:
        """Write behind the store's back, with its CHECK constraints switched off."""
        with closing(sqlite3.connect(store_path(self.data_dir, service))) as conn:
            conn.execute("PRAGMA ignore_check_constraints = ON")
            conn.execute(sql)
            conn.commit()

    def audit(self) -> AuditReport:
        return audit_stores(self.data_dir)


def rules(report: AuditReport, order_id: str | None = "order-1") -> set[AuditRule]:
    return {v.rule for v in report.violations if v.order_id == order_id}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_consistent_world_is_clean(world: World) -> None:
    world.complete("order-1")
    world.cancel("order-2")
    world.place("order-3")  # still running
    report = world.audit()
    assert report.violations == []
    assert report.clean
    assert (report.orders_placed, report.orders_checked) == (3, 2)
    assert report.missing_stores == []
    assert report.open_orders == [
        OpenOrder(order_id="order-3", style=Style.ORCHESTRATED, workflow_id="order-order-3")
    ]


def test_holds_for_an_order_never_placed_are_listed(world: World) -> None:
    world.inventory.reserve("ghost", [StockLine(sku="AA-1", quantity=1)])
    world.payments.authorize("ghost", TOTAL, SecretStr("tok_visa_4242"))

    report = world.audit()

    assert rules(report, "ghost") == {AuditRule.NO_HOLD_WITHOUT_ORDER}
    assert {v.store for v in report.violations} == {Service.INVENTORY, Service.PAYMENTS}


def test_an_empty_data_dir_is_clean_and_stays_empty(tmp_path: Path) -> None:
    report = audit_stores(tmp_path)
    assert report.clean
    assert report.orders_placed == 0
    assert set(report.missing_stores) == set(Service)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("skipped", "expected"),
    [
        ("consume", {AuditRule.COMPLETED_STOCK_CONSUMED, AuditRule.NO_HOLD_AFTER_END}),
        ("capture", {AuditRule.PAYMENT_MATCHES_OUTCOME, AuditRule.NO_OPEN_AUTHORIZATION}),
        ("deliver", {AuditRule.COMPLETED_DELIVERED}),
        ("notify", {AuditRule.FINAL_NOTIFICATION_SENT}),
    ],
)
def test_a_completed_order_missing_a_step(
    world: World, skipped: str, expected: set[AuditRule]
) -> None:
    world.complete("order-1", skip={skipped})
    assert rules(world.audit()) == expected


def test_a_completed_order_that_released_part_of_its_stock(world: World) -> None:
    """Every line of a delivered order left the warehouse: one given back means a line that
    was never shipped."""
    world.complete("order-1")
    world.tamper(
        Service.INVENTORY,
        "INSERT INTO reservations (order_id, sku, quantity, state, reserved_at, released_at)"
        " VALUES ('order-1', 'BB-2', 1, 'released', '2030-01-01', '2030-01-01')",
    )

    report = world.audit()

    assert rules(report) == {AuditRule.COMPLETED_STOCK_CONSUMED}
    assert [v.detail for v in report.violations] == [
        "completed order consumed 3 units and released 1"
    ]


@pytest.mark.parametrize(
    ("skipped", "expected"),
    [
        ("release", {AuditRule.NO_HOLD_AFTER_END}),
        ("reverse", {AuditRule.NO_OPEN_AUTHORIZATION}),
        ("cancel_shipment", {AuditRule.NO_BOOKING_AFTER_CANCEL}),
        ("notify", {AuditRule.FINAL_NOTIFICATION_SENT}),
    ],
)
def test_a_cancelled_order_missing_a_compensation(
    world: World, skipped: str, expected: set[AuditRule]
) -> None:
    world.cancel("order-1", skip={skipped})
    assert rules(world.audit()) == expected


def test_a_cancelled_order_that_was_shipped_anyway(world: World) -> None:
    world.place("order-1")
    world.dispatch("order-1")
    world.payments.reverse("order-1")  # refunded: the money is right, the goods are not
    world.end("order-1", "cancelled", CancelReason.CUSTOMER_CANCELLED, notify=True)
    report = world.audit()
    assert rules(report) == {
        AuditRule.CANCELLED_NOT_DISPATCHED,
        AuditRule.CANCELLED_STOCK_NOT_CONSUMED,
    }
    (violation, *_) = [v for v in report.violations if v.store is Service.SHIPPING]
    assert "customer_cancelled" in violation.detail


def test_a_parcel_lost_in_transit_is_refunded(world: World) -> None:
    world.place("order-1")
    world.dispatch("order-1")
    world.carrier_reports("order-1", CarrierEventKind.PICKED_UP)
    world.shipping.mark_lost("order-1")
    world.end("order-1", "cancelled", CancelReason.LOST_IN_TRANSIT, notify=True)
    assert rules(world.audit()) == {AuditRule.PAYMENT_MATCHES_OUTCOME}
    world.payments.reverse("order-1")
    assert world.audit().clean


def test_stock_out_of_step_with_the_reservations(world: World) -> None:
    world.place("order-1")
    world.tamper(Service.INVENTORY, "UPDATE stock SET reserved = reserved + 1 WHERE sku = 'AA-1'")
    report = world.audit()
    assert rules(report, None) == {AuditRule.RESERVED_MATCHES_HOLDS}
    assert "AA-1: stock says 4 reserved, held reservations add up to 3" in [
        v.detail for v in report.violations
    ]


def test_impossible_stock_levels(world: World) -> None:
    world.tamper(Service.INVENTORY, "UPDATE stock SET on_hand = -1 WHERE sku = 'AA-1'")
    assert rules(world.audit(), None) == {
        AuditRule.STOCK_NOT_NEGATIVE,
        AuditRule.RESERVED_WITHIN_ON_HAND,
    }


@pytest.mark.parametrize(
    ("service", "table", "columns"),
    [
        (Service.PAYMENTS, "ledger", "order_id, kind, amount_cents, idempotency_key, at"),
        (
            Service.NOTIFICATIONS,
            "messages",
            "message_id, order_id, kind, recipient, subject, body, created_at",
        ),
        (Service.SHIPPING, "carrier_events", "order_id, kind, tracking_number, at, received_at"),
    ],
)
def test_an_effect_booked_twice(tmp_path: Path, service: Service, table: str, columns: str) -> None:
    """Only possible if the UNIQUE constraint were missing: create the table without it first."""
    with closing(sqlite3.connect(store_path(tmp_path, service))) as conn:
        conn.execute(f"CREATE TABLE {table} (rowid_ INTEGER PRIMARY KEY, {columns})")
    world = World(tmp_path)
    world.complete("order-1")
    copy = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} LIMIT 1"
    world.tamper(service, copy)
    report = world.audit()
    assert {(v.store, v.rule) for v in report.violations} == {(service, AuditRule.EFFECT_ONCE)}


# Parked compensations: an order waiting for a person, a hold resolved by hand.


def test_a_parked_order_waits_for_a_person_and_is_no_violation(world: World) -> None:
    world.place("order-1")
    parked = world.park("order-1", Compensation.VOID_PAYMENT)
    report = world.audit()
    assert report.clean
    assert report.waiting_for_a_person == [
        ParkedOrder(
            order_id="order-1",
            style=Style.ORCHESTRATED,
            workflow_id="order-order-1",
            parked=parked,
        )
    ]
    assert [o.order_id for o in report.open_orders] == ["order-1"]  # Temporal is still asked


def test_an_order_no_longer_parked_waits_for_nobody(world: World) -> None:
    world.place("order-1")
    world.park("order-1", Compensation.VOID_PAYMENT)
    world.park("order-1")
    assert world.audit().waiting_for_a_person == []


@pytest.mark.parametrize(
    ("compensation", "skipped", "rule", "store"),
    [
        (Compensation.VOID_PAYMENT, "reverse", AuditRule.NO_OPEN_AUTHORIZATION, Service.PAYMENTS),
        (Compensation.RELEASE_STOCK, "release", AuditRule.NO_HOLD_AFTER_END, Service.INVENTORY),
    ],
)
def test_a_hold_resolved_by_hand_is_reported_as_such_not_as_a_leak(
    world: World, compensation: Compensation, skipped: str, rule: AuditRule, store: Service
) -> None:
    world.place("order-1")
    world.park("order-1", compensation)
    resolution = world.resolve_by_hand("order-1", compensation)
    world.cancel_placed("order-1", skip={skipped})

    report = world.audit()

    assert report.violations == []
    (resolved,) = report.resolved_by_hand
    assert RecordResolvedByHand.model_validate(resolved.model_dump(exclude={"excused"})) == (
        resolution
    )
    assert [(v.store, v.rule, v.order_id) for v in resolved.excused] == [(store, rule, "order-1")]
    assert report.waiting_for_a_person == []


def test_a_resolution_by_hand_excuses_only_its_own_hold(world: World) -> None:
    """The void done by hand says nothing about the stock still held, nor about another order."""
    world.place("order-1")
    world.resolve_by_hand("order-1", Compensation.VOID_PAYMENT)
    world.cancel_placed("order-1", skip={"reverse", "release"})
    world.place("order-2")
    world.cancel_placed("order-2", skip={"reverse"})

    report = world.audit()

    assert rules(report, "order-1") == {AuditRule.NO_HOLD_AFTER_END}
    assert rules(report, "order-2") == {AuditRule.NO_OPEN_AUTHORIZATION}
    (resolved,) = report.resolved_by_hand
    assert [v.rule for v in resolved.excused] == [AuditRule.NO_OPEN_AUTHORIZATION]


def test_money_taken_is_not_excused_by_a_void_by_hand(world: World) -> None:
    """A capture never refunded is no hold: a person voiding an authorization cannot explain it."""
    world.place("order-1")
    world.payments.capture("order-1")
    world.resolve_by_hand("order-1", Compensation.VOID_PAYMENT)
    world.cancel_placed("order-1", skip={"reverse"})

    report = world.audit()

    assert rules(report) == {AuditRule.PAYMENT_MATCHES_OUTCOME}
    assert [r.excused for r in report.resolved_by_hand] == [[]]


def test_a_resolution_that_left_nothing_held_is_still_reported(world: World) -> None:
    world.place("order-1")
    world.resolve_by_hand("order-1", Compensation.VOID_PAYMENT)
    world.cancel_placed("order-1")

    report = world.audit()

    assert report.clean
    assert [(r.compensation, r.excused) for r in report.resolved_by_hand] == [
        (Compensation.VOID_PAYMENT, [])
    ]


def test_stores_written_before_parking_existed_are_audited_as_they_are(world: World) -> None:
    """A data dir from before this release, audited before any worker opened it again."""
    world.complete("order-1")
    world.place("order-2")
    world.tamper(Service.ORDERS, "DROP TABLE parked_compensations")
    world.tamper(Service.INVENTORY, "DROP TABLE resolved_by_hand")
    world.tamper(Service.PAYMENTS, "DROP TABLE resolved_by_hand")

    report = world.audit()

    assert report.clean
    assert (report.waiting_for_a_person, report.resolved_by_hand) == ([], [])
    assert [o.order_id for o in report.open_orders] == ["order-2"]


def test_a_violation_keeps_its_shape_when_not_excused(world: World) -> None:
    world.cancel("order-1", skip={"reverse"})
    assert world.audit().violations == [
        Violation(
            store=Service.PAYMENTS,
            order_id="order-1",
            rule=AuditRule.NO_OPEN_AUTHORIZATION,
            detail="cancelled order still has an open authorization",
        )
    ]
