from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from domain.messages.common import OrderRef
from domain.messages.inventory import (
    ConsumeResult,
    ReleaseResult,
    ReservationResult,
    ReserveStock,
    StockLine,
)
from domain.order import Order
from domain.order_parts import OrderLines
from workflows.retry_policies import UNTIL_DONE, within_budget
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities


async def reserve_stock(order: Order | OrderLines) -> ReservationResult:
    request = ReserveStock(
        order_id=order.order_id,
        lines=[StockLine(sku=item.sku, quantity=item.quantity) for item in order.items],
        simulate_out_of_stock=order.faults.out_of_stock,
    )
    return await call(InventoryActivities.reserve_stock, request, summary="reserve stock")


async def release_stock(order_id: str, *, budget: timedelta | None = None) -> ReleaseResult:
    """Within `budget`, or (no budget) retried until done."""
    return await call(
        InventoryActivities.release_stock,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE if budget is None else within_budget(budget),
        summary="compensation: release stock",
    )


async def consume_stock(order_id: str) -> ConsumeResult:
    return await call(
        InventoryActivities.consume_stock,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE,
        summary="consume the reserved stock",
    )
