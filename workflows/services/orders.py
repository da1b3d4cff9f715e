"""The orders register: every style records an order when it is placed and when it ends."""

from __future__ import annotations

from temporalio import workflow

from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import RecordOrderParked
from domain.order import Order
from domain.services import Style
from domain.views import OrderOutcome
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrdersActivities


async def record_order_placed(order: Order, style: Style, *, local: bool = False) -> None:
    record = RecordOrderPlaced(
        order_id=order.order_id,
        style=style,
        workflow_id=workflow.info().workflow_id,
        customer_id=order.customer.id,
        total_cents=order.total_cents,
        placed_at=workflow.now(),
    )
    await call(
        OrdersActivities.record_order_placed,
        record,
        policy=UNTIL_DONE,
        summary="register the order",
        local=local,
    )


async def record_order_ended(outcome: OrderOutcome, style: Style, *, local: bool = False) -> None:
    record = RecordOrderEnded(style=style, outcome=outcome, ended_at=workflow.now())
    await call(
        OrdersActivities.record_order_ended,
        record,
        policy=UNTIL_DONE,
        summary=f"register the outcome: {outcome.status}",
        local=local,
    )


async def record_order_parked(parked: RecordOrderParked) -> None:
    await call(
        OrdersActivities.record_order_parked,
        parked,
        policy=UNTIL_DONE,
        summary=f"register: {len(parked.parked)} compensation(s) parked",
    )
