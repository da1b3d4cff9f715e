from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.services import Style
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores.database import IdempotencyConflictError, InvalidRequestError, StepOutOfOrderError
from stores.orders import OrdersStore, OutcomeConflictError

AT = datetime(2030, 1, 1, tzinfo=UTC)


def placed(order_id: str = "order-1", workflow_id: str = "order-order-1") -> RecordOrderPlaced:
    return RecordOrderPlaced(
        order_id=order_id,
        style=Style.ORCHESTRATED,
        workflow_id=workflow_id,
        customer_id="cust-1",
        total_cents=5_000,
        placed_at=AT,
    )


def ended(status: str = "completed", reason: CancelReason | None = None) -> RecordOrderEnded:
    outcome = OrderOutcome.model_validate(
        {"order_id": "order-1", "status": status, "reason": reason, "total_cents": 5_000}
    )
    return RecordOrderEnded(style=Style.ORCHESTRATED, outcome=outcome, ended_at=AT)


def test_placing_twice_registers_once(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    orders.record_placed(placed())
    (order,) = orders.orders()
    assert (order.order_id, order.workflow_id, order.outcome) == ("order-1", "order-order-1", None)
    assert orders.open_orders() == [order]


def test_placing_again_with_other_facts_is_a_conflict(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    with pytest.raises(IdempotencyConflictError, match="order-other"):
        orders.record_placed(placed(workflow_id="order-other"))


def test_ending_twice_the_same_way_records_once(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    orders.record_ended(ended())
    orders.record_ended(ended())
    order = orders.order("order-1")
    assert order is not None
    assert order.outcome is not None
    assert order.outcome.status == "completed"
    assert order.ended_at == AT
    assert orders.open_orders() == []


def test_the_first_outcome_wins(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    orders.record_ended(ended("cancelled", CancelReason.PAYMENT_DECLINED))
    with pytest.raises(OutcomeConflictError, match="already ended cancelled"):
        orders.record_ended(ended())
    order = orders.order("order-1")
    assert order is not None
    assert order.outcome is not None
    assert order.outcome.reason is CancelReason.PAYMENT_DECLINED


def test_an_order_must_be_placed_before_it_ends(orders: OrdersStore) -> None:
    with pytest.raises(StepOutOfOrderError, match="never placed"):
        orders.record_ended(ended())


def test_an_outcome_with_another_total_is_refused(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    wrong = ended().outcome.model_copy(update={"total_cents": 1})
    with pytest.raises(InvalidRequestError, match="total"):
        orders.record_ended(RecordOrderEnded(style=Style.ORCHESTRATED, outcome=wrong, ended_at=AT))


def test_open_orders_are_those_not_ended(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    orders.record_placed(placed("order-2", "order-order-2"))
    orders.record_ended(ended())
    assert [o.order_id for o in orders.open_orders()] == ["order-2"]
