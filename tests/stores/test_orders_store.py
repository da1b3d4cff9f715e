from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import Compensation, ParkedCompensation, RecordOrderParked
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


# An order waiting for a person about the compensations it parked.

VOID = ParkedCompensation(
    compensation=Compensation.VOID_PAYMENT,
    why="the gateway refused to void authorization auth-1 of order order-1 (refusal 1 of 2)",
    since=AT + timedelta(minutes=1),
)
RELEASE = ParkedCompensation(
    compensation=Compensation.RELEASE_STOCK,
    why="inventory did not answer within the compensation budget",
    since=AT + timedelta(minutes=2),
)


def parked(*compensations: ParkedCompensation) -> RecordOrderParked:
    return RecordOrderParked(
        order_id="order-1", parked=list(compensations), at=AT + timedelta(minutes=3)
    )


def parked_now(orders: OrdersStore) -> tuple[ParkedCompensation, ...]:
    order = orders.order("order-1")
    assert order is not None
    return order.parked


def test_an_order_parks_then_replaces_then_clears_what_it_waits_for(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    assert parked_now(orders) == ()
    orders.record_parked(parked(VOID, RELEASE))
    orders.record_parked(parked(VOID, RELEASE))
    assert parked_now(orders) == (VOID, RELEASE)
    assert [o.parked for o in orders.open_orders()] == [(VOID, RELEASE)]
    orders.record_parked(parked(VOID))
    assert parked_now(orders) == (VOID,)
    orders.record_parked(parked())
    assert parked_now(orders) == ()


def test_the_end_clears_what_the_order_waited_for(orders: OrdersStore) -> None:
    orders.record_placed(placed())
    orders.record_parked(parked(VOID))
    orders.record_ended(ended("cancelled", CancelReason.APPROVAL_REJECTED))
    assert parked_now(orders) == ()
    orders.record_parked(parked())  # nothing parked: a late clearing changes nothing


def test_an_order_that_has_ended_cannot_park_again(orders: OrdersStore) -> None:
    """A late attempt of an earlier `record_order_parked` must not make an ended order wait."""
    orders.record_placed(placed())
    orders.record_ended(ended("cancelled", CancelReason.APPROVAL_REJECTED))
    with pytest.raises(StepOutOfOrderError, match="cannot wait for a person"):
        orders.record_parked(parked(VOID))
    assert parked_now(orders) == ()


def test_an_order_must_be_placed_before_it_parks(orders: OrdersStore) -> None:
    with pytest.raises(StepOutOfOrderError, match="never placed"):
        orders.record_parked(parked(VOID))
