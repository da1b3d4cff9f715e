from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.orders import OrdersActivities
from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import Compensation, ParkedCompensation, RecordOrderParked
from domain.services import Style
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores.orders import OrdersStore

AT = datetime(2030, 1, 1, tzinfo=UTC)
PLACED = RecordOrderPlaced(
    order_id="order-1",
    style=Style.HYBRID,
    workflow_id="order-order-1",
    customer_id="cust-1",
    total_cents=900,
    placed_at=AT,
)


def ended(status: str, reason: CancelReason | None = None) -> RecordOrderEnded:
    outcome = OrderOutcome.model_validate(
        {"order_id": "order-1", "status": status, "reason": reason, "total_cents": 900}
    )
    return RecordOrderEnded(style=Style.HYBRID, outcome=outcome, ended_at=AT)


def test_the_register_keeps_the_first_outcome(tmp_path: Path) -> None:
    store = OrdersStore(tmp_path / "orders.sqlite3")
    orders = OrdersActivities(store)
    env = ActivityEnvironment()
    env.run(orders.record_order_placed, PLACED)
    env.run(orders.record_order_placed, PLACED)
    env.run(orders.record_order_ended, ended("cancelled", CancelReason.APPROVAL_TIMEOUT))
    env.run(orders.record_order_ended, ended("cancelled", CancelReason.APPROVAL_TIMEOUT))
    with pytest.raises(ApplicationError, match="already ended cancelled") as raised:
        env.run(orders.record_order_ended, ended("completed"))
    assert raised.value.non_retryable
    (order,) = store.orders()
    assert order.outcome is not None
    assert order.outcome.reason is CancelReason.APPROVAL_TIMEOUT


def test_the_register_keeps_what_a_parked_order_waits_for(tmp_path: Path) -> None:
    store = OrdersStore(tmp_path / "orders.sqlite3")
    orders = OrdersActivities(store)
    env = ActivityEnvironment()
    stuck = ParkedCompensation(
        compensation=Compensation.VOID_PAYMENT,
        why="the gateway refused to void authorization auth-1 of order order-1 (refusal 1 of 1)",
        since=AT,
    )
    parked = RecordOrderParked(order_id="order-1", parked=[stuck], at=AT)
    with pytest.raises(ApplicationError, match="never placed") as raised:
        env.run(orders.record_order_parked, parked)
    assert raised.value.non_retryable
    env.run(orders.record_order_placed, PLACED)
    env.run(orders.record_order_parked, parked)
    env.run(orders.record_order_parked, parked)
    assert [order.parked for order in store.open_orders()] == [(stuck,)]
    later = AT + timedelta(minutes=5)
    env.run(orders.record_order_parked, RecordOrderParked(order_id="order-1", parked=[], at=later))
    assert [order.parked for order in store.open_orders()] == [()]
