"""The audit: do the service stores agree with each other and with how each order ended?

Every store is read through a read-only snapshot (a store never created reads as empty), so the
audit can run beside live workers and never changes what it looks at. Rules about one store's own
consistency (stock, duplicate effects) hold at any moment; rules about an order's effects only
apply once the order has ended, since a running order is legitimately half-way.

Two things are reported that are no violation: an open order that parked a compensation waits for
a person (`waiting_for_a_person`); a hold of an ended order (stock still held, an authorization
still open) that a person resolved by hand for that compensation is theirs to answer for, and is
listed with who and how (`resolved_by_hand`) instead of as a leak.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from domain.messages.audit import (
    AuditReport,
    AuditRule,
    OpenOrder,
    ParkedOrder,
    ResolvedByHand,
    Violation,
)
from domain.messages.notifications import NotificationKind
from domain.messages.resolution import Compensation, RecordResolvedByHand
from domain.services import Service
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores import store_location
from stores.database import Connection, read_only, store_exists, without_password
from stores.inventory import InventoryStore, ReservationState
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore, read_orders
from stores.payments import NET_CAPTURED, PaymentsStore, PaymentState
from stores.resolutions import read_resolutions
from stores.shipping import HANDED_OVER, ShipmentState, ShippingStore

Ended = dict[str, OrderOutcome]
Check = Callable[[Connection, Ended], Iterator[Violation]]


def stores_place(data_dir: Path) -> str:
    """Where the audited stores are, for a person: the data directory of the SQLite files, the
    PostgreSQL server and database (without a password), or each place when they differ."""
    places = dict.fromkeys(
        str(location.parent) if isinstance(location, Path) else without_password(location)
        for location in (store_location(data_dir, service) for service in Service)
    )
    return ", ".join(places)


_SCHEMAS = {
    store.SERVICE: store.SCHEMA
    for store in (OrdersStore, InventoryStore, PaymentsStore, ShippingStore, NotificationsStore)
}

EXCUSED_BY_HAND: dict[Compensation, frozenset[AuditRule]] = {
    Compensation.RELEASE_STOCK: frozenset({AuditRule.NO_HOLD_AFTER_END}),
    Compensation.VOID_PAYMENT: frozenset({AuditRule.NO_OPEN_AUTHORIZATION}),
}
"""The violations of an ended order that a resolution by hand of the compensation accounts for:
the hold it leaves in its service's store. Nothing else: money captured and not refunded, say,
is no hold, and voiding an authorization by hand cannot explain it."""

FINAL_NOTIFICATION = {
    "completed": NotificationKind.ORDER_DELIVERED,
    "cancelled": NotificationKind.ORDER_CANCELLED,
}


def audit_stores(data_dir: Path) -> AuditReport:
    # Holds first, then the orders: an order is recorded before anything is held for it, so
    # reading in this order never mistakes an order placed during the audit for an orphan. The
    # other checks read their stores after the orders: an order that ended had its effects first.
    holds = _holds(data_dir)
    with _snapshot(data_dir, Service.ORDERS) as db:
        orders = read_orders(db)
    ended = {order.order_id: order.outcome for order in orders if order.outcome is not None}
    violations: list[Violation] = []
    resolutions: list[RecordResolvedByHand] = []
    for service, check in _CHECKS.items():
        with _snapshot(data_dir, service) as db:
            violations.extend(check(db, ended))
            if service in _RESOLVING:  # read after the orders: a resolution precedes its end
                resolutions.extend(read_resolutions(db))
    violations.extend(_holds_without_order(holds, {order.order_id for order in orders}))
    violations, resolved = _excuse(violations, resolutions)
    open_orders = [o for o in orders if o.outcome is None]
    return AuditReport(
        orders_placed=len(orders),
        orders_checked=len(ended),
        missing_stores=[s for s in Service if not store_exists(store_location(data_dir, s), s)],
        violations=violations,
        open_orders=[
            OpenOrder(order_id=o.order_id, style=o.style, workflow_id=o.workflow_id)
            for o in open_orders
        ],
        waiting_for_a_person=[
            ParkedOrder(
                order_id=o.order_id, style=o.style, workflow_id=o.workflow_id, parked=list(o.parked)
            )
            for o in open_orders
            if o.parked
        ],
        resolved_by_hand=resolved,
    )


_RESOLVING = frozenset(compensation.service for compensation in Compensation)
"""The services whose stores record compensations resolved by hand."""


def _excuse(
    violations: list[Violation], resolutions: list[RecordResolvedByHand]
) -> tuple[list[Violation], list[ResolvedByHand]]:
    """Move each violation a resolution by hand accounts for (`EXCUSED_BY_HAND`) from the
    violations to that resolution; every resolution is reported, excusing something or not."""
    excused: dict[tuple[str, Compensation], list[Violation]] = {
        (r.order_id, r.compensation): [] for r in resolutions
    }
    kept: list[Violation] = []
    for violation in violations:
        key = _excused_by(violation, excused.keys())
        if key is None:
            kept.append(violation)
        else:
            excused[key].append(violation)
    resolved = [
        ResolvedByHand(**r.model_dump(), excused=excused[(r.order_id, r.compensation)])
        for r in resolutions
    ]
    return kept, resolved


def _excused_by(
    violation: Violation, resolved: Collection[tuple[str, Compensation]]
) -> tuple[str, Compensation] | None:
    """The resolution by hand that accounts for the violation, if one does: of the same order, a
    compensation of the store that reports it, and a rule that compensation's hold breaks."""
    for compensation, rules in EXCUSED_BY_HAND.items():
        key = (violation.order_id or "", compensation)
        if compensation.service is violation.store and violation.rule in rules and key in resolved:
            return key
    return None


Holds = list[tuple[Service, list[str], str]]


def _holds(data_dir: Path) -> Holds:
    """The orders that hold something: stock, or an open authorization."""
    with _snapshot(data_dir, Service.INVENTORY) as db:
        held = [
            row[0]
            for row in db.execute(
                "SELECT DISTINCT order_id FROM reservations WHERE state = ? ORDER BY order_id",
                (ReservationState.HELD.value,),
            )
        ]
    with _snapshot(data_dir, Service.PAYMENTS) as db:
        authorized = [
            row[0]
            for row in db.execute(
                "SELECT order_id FROM payments WHERE state = ? ORDER BY order_id",
                (PaymentState.AUTHORIZED.value,),
            )
        ]
    return [
        (Service.INVENTORY, held, "holds stock"),
        (Service.PAYMENTS, authorized, "has an open authorization"),
    ]


def _holds_without_order(holds: Holds, known: set[str]) -> Iterator[Violation]:
    for service, order_ids, what in holds:
        for order_id in order_ids:
            if order_id not in known:
                yield _reporter(service)(
                    AuditRule.NO_HOLD_WITHOUT_ORDER,
                    order_id,
                    f"order {order_id} {what} but was never placed",
                )


def _snapshot(data_dir: Path, service: Service) -> AbstractContextManager[Connection]:
    return read_only(store_location(data_dir, service), service, _SCHEMAS[service])


def _reporter(store: Service) -> Callable[[AuditRule, str | None, str], Violation]:
    def violation(rule: AuditRule, order_id: str | None, detail: str) -> Violation:
        return Violation(store=store, order_id=order_id, rule=rule, detail=detail)

    return violation


def _inventory(db: Connection, ended: Ended) -> Iterator[Violation]:
    violation = _reporter(Service.INVENTORY)
    stock = db.execute(
        "SELECT sku, on_hand, reserved, (SELECT COALESCE(SUM(quantity), 0) FROM reservations r"
        " WHERE r.sku = s.sku AND r.state = 'held') AS held FROM stock s ORDER BY sku"
    )
    for sku, on_hand, reserved, held in stock:
        if on_hand < 0 or reserved < 0:
            yield violation(
                AuditRule.STOCK_NOT_NEGATIVE, None, f"{sku}: {on_hand} on hand, {reserved} reserved"
            )
        if reserved > on_hand:
            yield violation(
                AuditRule.RESERVED_WITHIN_ON_HAND,
                None,
                f"{sku}: {reserved} reserved but only {on_hand} on hand",
            )
        if reserved != held:
            yield violation(
                AuditRule.RESERVED_MATCHES_HOLDS,
                None,
                f"{sku}: stock says {reserved} reserved, held reservations add up to {held}",
            )
    units: dict[str, dict[str, int]] = defaultdict(dict)
    for order_id, state, quantity in db.execute(
        "SELECT order_id, state, SUM(quantity) FROM reservations GROUP BY order_id, state"
    ):
        units[order_id][state] = quantity
    for order_id, outcome in ended.items():
        held = units[order_id].get(ReservationState.HELD, 0)
        consumed = units[order_id].get(ReservationState.CONSUMED, 0)
        released = units[order_id].get(ReservationState.RELEASED, 0)
        if held:
            yield violation(
                AuditRule.NO_HOLD_AFTER_END,
                order_id,
                f"{outcome.status} order still holds {held} units",
            )
        if outcome.status == "completed" and (not consumed or released):
            yield violation(
                AuditRule.COMPLETED_STOCK_CONSUMED,
                order_id,
                f"completed order consumed {consumed} units and released {released}",
            )
        if outcome.status == "cancelled" and consumed and not _lost(outcome):
            yield violation(
                AuditRule.CANCELLED_STOCK_NOT_CONSUMED,
                order_id,
                f"order cancelled ({outcome.reason}) but {consumed} units left the warehouse",
            )


def _payments(db: Connection, ended: Ended) -> Iterator[Violation]:
    violation = _reporter(Service.PAYMENTS)
    states = dict(db.execute("SELECT order_id, state FROM payments").fetchall())
    net = dict(
        db.execute(f"SELECT order_id, {NET_CAPTURED} FROM ledger GROUP BY order_id").fetchall()
    )
    for order_id, outcome in ended.items():
        expected = outcome.total_cents if outcome.status == "completed" else 0
        paid = net.get(order_id, 0)
        if paid != expected:
            yield violation(
                AuditRule.PAYMENT_MATCHES_OUTCOME,
                order_id,
                f"{outcome.status} order: captures minus refunds are {paid} cents, "
                f"expected {expected}",
            )
        if states.get(order_id) == PaymentState.AUTHORIZED:
            yield violation(
                AuditRule.NO_OPEN_AUTHORIZATION,
                order_id,
                f"{outcome.status} order still has an open authorization",
            )
    for order_id, key, count in _duplicates(db, "ledger", "idempotency_key"):
        yield violation(
            AuditRule.EFFECT_ONCE, order_id, f"ledger effect {key} booked {count} times"
        )


def _shipping(db: Connection, ended: Ended) -> Iterator[Violation]:
    violation = _reporter(Service.SHIPPING)
    states = dict(db.execute("SELECT order_id, state FROM shipments").fetchall())
    for order_id, outcome in ended.items():
        state = states.get(order_id, "not booked")
        if outcome.status == "completed" and state != ShipmentState.DELIVERED:
            yield violation(
                AuditRule.COMPLETED_DELIVERED, order_id, f"completed order's shipment is {state}"
            )
        if outcome.status == "cancelled" and not _lost(outcome):
            if state in HANDED_OVER:
                yield violation(
                    AuditRule.CANCELLED_NOT_DISPATCHED,
                    order_id,
                    f"order cancelled ({outcome.reason}) but its shipment is {state}",
                )
            if state == ShipmentState.BOOKED:
                yield violation(
                    AuditRule.NO_BOOKING_AFTER_CANCEL,
                    order_id,
                    f"order cancelled ({outcome.reason}) but its shipment is still booked",
                )
    for order_id, kind, count in _duplicates(db, "carrier_events", "kind"):
        yield violation(
            AuditRule.EFFECT_ONCE, order_id, f"carrier event {kind} recorded {count} times"
        )


def _notifications(db: Connection, ended: Ended) -> Iterator[Violation]:
    violation = _reporter(Service.NOTIFICATIONS)
    sent: dict[str, set[str]] = defaultdict(set)
    for order_id, kind in db.execute("SELECT order_id, kind FROM messages"):
        sent[order_id].add(kind)
    for order_id, outcome in ended.items():
        final = FINAL_NOTIFICATION[outcome.status]
        if final not in sent[order_id]:
            yield violation(
                AuditRule.FINAL_NOTIFICATION_SENT,
                order_id,
                f"{outcome.status} order has no {final.value} message",
            )
    for order_id, kind, count in _duplicates(db, "messages", "kind"):
        yield violation(AuditRule.EFFECT_ONCE, order_id, f"message {kind} sent {count} times")


def _duplicates(db: Connection, table: str, key: str) -> Iterator[tuple[str, str, int]]:
    """Effects that share an idempotency key (order id and `key`): the constraints should make
    this impossible, so finding one means an effect happened twice."""
    query = (
        f"SELECT order_id, {key}, COUNT(*) FROM {table} GROUP BY order_id, {key}"
        " HAVING COUNT(*) > 1 ORDER BY order_id"
    )
    for order_id, value, count in db.execute(query).fetchall():
        yield str(order_id), str(value), int(count)


def _lost(outcome: OrderOutcome) -> bool:
    """A parcel lost in transit left the warehouse: its stock was rightly consumed."""
    return outcome.reason is CancelReason.LOST_IN_TRANSIT


_CHECKS: dict[Service, Check] = {
    Service.INVENTORY: _inventory,
    Service.PAYMENTS: _payments,
    Service.SHIPPING: _shipping,
    Service.NOTIFICATIONS: _notifications,
}
