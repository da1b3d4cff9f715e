from __future__ import annotations

from datetime import timedelta

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
from domain.services import Service
from workflows.retry_policies import UNTIL_DONE, within_budget
from workflows.services.call import call


async def reserve_stock(order: Order | OrderLines) -> ReservationResult:
    request = ReserveStock(
        order_id=order.order_id,
        lines=[StockLine(sku=item.sku, quantity=item.quantity) for item in order.items],
        simulate_out_of_stock=order.faults.out_of_stock,
    )
    return await call(
        Service.INVENTORY, "reserve_stock", request, ReservationResult, summary="reserve stock"
    )


async def release_stock(order_id: str, *, budget: timedelta | None = None) -> ReleaseResult:
    """Within `budget`, or (no budget) retried until done."""
    return await call(
        Service.INVENTORY,
        "release_stock",
        OrderRef(order_id=order_id),
        ReleaseResult,
        policy=UNTIL_DONE if budget is None else within_budget(budget),
        summary="compensation: release stock",
    )


async def consume_stock(order_id: str) -> ConsumeResult:
    return await call(
        Service.INVENTORY,
        "consume_stock",
        OrderRef(order_id=order_id),
        ConsumeResult,
        policy=UNTIL_DONE,
        summary="consume the reserved stock",
    )
