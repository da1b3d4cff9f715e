"""The audit command against Temporal: an order that parked a compensation waits for a person
while its workflow runs (listed, no violation), and is left behind once its workflow is gone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client

from client.orders import place_order
from domain.messages.notifications import NotificationKind, SendNotification
from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import (
    Compensation,
    ParkedCompensation,
    RecordOrderParked,
    RecordResolvedByHand,
)
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from domain.views import OrderOutcome
from insight.audit import describe, run_audit
from stores import store_path
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from tests.support import LARGE_ORDER, make_order, reach

WHY = "the gateway refused to void authorization auth-1 (refusal 1 of 2)"
AT = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def test_a_parked_order_waits_for_a_person_while_its_workflow_runs(
    client: Client, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order waits for its approver, running; the register says it parked a void (as the
    saga records it), so the audit lists it for a person and finds nothing wrong."""
    monkeypatch.setenv("ORDERS_DATA_DIR", str(data_dir))
    order = make_order(items=LARGE_ORDER)
    placed = await place_order(client, order, Style.ORCHESTRATED)
    await reach(client, order.order_id, OrderStatus.AWAITING_APPROVAL)
    stuck = ParkedCompensation(compensation=Compensation.VOID_PAYMENT, why=WHY, since=AT)
    OrdersStore(store_path(data_dir, Service.ORDERS)).record_parked(
        RecordOrderParked(order_id=order.order_id, parked=[stuck], at=AT)
    )

    report, waiting = await run_audit(client)

    assert report.clean, report.violations
    assert [o.order_id for o in report.waiting_for_a_person] == [order.order_id]
    assert [o.order_id for o in waiting] == [order.order_id]
    text = describe(report, waiting).splitlines()
    assert text[0].endswith("1 waiting (1 for a person): every invariant holds"), text[0]
    assert text[1:] == [
        "waiting for a person: 1 order(s)",
        f"  order {order.order_id} (orchestrated, awaiting_approval): python -m "
        f"starters.resolve_order {order.order_id} (--retry | --mark-done --note TEXT)",
        f"    void the payment, parked since 2030-01-01T12:00:00+00:00: {WHY}",
    ]

    await client.get_workflow_handle(placed.workflow_id).terminate("an operator gave up on it")
    report, waiting = await run_audit(client)

    assert (report.waiting_for_a_person, waiting) == ([], [])
    assert [v.detail for v in report.violations] == [
        f"order {order.order_id} never recorded an outcome and its workflow is terminated; "
        "it was waiting for a person (void the payment)"
    ]


async def test_a_void_done_by_hand_is_listed_with_who_and_how_not_as_a_leak(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway refused the void, a person voided in its console and said so: the order ended
    cancelled with its authorization still open in the store. No order is open: Temporal is
    not asked."""
    monkeypatch.setenv("ORDERS_DATA_DIR", str(data_dir))
    orders = OrdersStore(store_path(data_dir, Service.ORDERS))
    payments = PaymentsStore(store_path(data_dir, Service.PAYMENTS))
    orders.record_placed(
        RecordOrderPlaced(
            order_id="ord-1",
            style=Style.HYBRID,
            workflow_id="order-ord-1",
            customer_id="cust-1",
            total_cents=5_000,
            placed_at=AT,
        )
    )
    payments.authorize("ord-1", 5_000, SecretStr("tok_visa_4242"), simulate_void_refusals=1)
    payments.record_resolved_by_hand(
        RecordResolvedByHand(
            order_id="ord-1",
            compensation=Compensation.VOID_PAYMENT,
            resolved_by="ada",
            note="voided in the gateway's console, ticket 42",
            at=AT,
        )
    )
    NotificationsStore(store_path(data_dir, Service.NOTIFICATIONS)).send(
        SendNotification(
            order_id="ord-1",
            kind=NotificationKind.ORDER_CANCELLED,
            recipient="ada@example.com",
            subject="cancelled",
            body="sorry",
        )
    )
    outcome = OrderOutcome(
        order_id="ord-1",
        status="cancelled",
        reason=CancelReason.APPROVAL_REJECTED,
        total_cents=5_000,
    )
    orders.record_ended(RecordOrderEnded(style=Style.HYBRID, outcome=outcome, ended_at=AT))

    report, waiting = await run_audit(None)

    assert report.clean, report.violations
    assert describe(report, waiting).splitlines()[1:] == [
        "resolved by hand: 1 compensation(s)",
        "  order ord-1: void the payment, by ada at 2030-01-01T12:00:00+00:00: voided in the "
        "gateway's console, ticket 42",
        "    excuses [payments] no_open_authorization: cancelled order still has an open "
        "authorization",
    ]
