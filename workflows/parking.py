"""Parked compensations, in the orchestrated and the hybrid order: a compensation that could not
be done waits for a person, who retries it or says it was undone by hand.

No saga framework we know of gives an operator this way out; without it, a compensation that can
never succeed is retried forever in silence, or aborts the undo that follows it. Here the others
run first (`Saga.compensate`), then the order waits in `needs_attention`: operations are told
what is stuck and why, the orders store records it (the audit lists the order as waiting for a
person), and `starters.resolve_order` answers with a `resolve` update.
"""

from __future__ import annotations

from temporalio import workflow

from domain.commands import Resolution, Resolve
from domain.messages.notifications import NotificationKind
from domain.messages.resolution import (
    ParkedCompensation,
    RecordOrderParked,
)
from domain.order import Order
from domain.services import Service
from domain.status import OrderStatus
from domain.views import EntryKind
from workflows.desk import OrderDesk
from workflows.saga import Parked, Saga
from workflows.services import notifications, orders
from workflows.services.resolutions import record_resolved_by_hand
from workflows.tracking import OrderTracker


async def until_resolved(
    parked: list[Parked], saga: Saga, order: Order, desk: OrderDesk, tracker: OrderTracker
) -> None:
    """Wait for a person until every parked compensation is retried successfully or recorded
    as undone by hand."""
    await _park(parked, order, tracker)
    await notifications.notify_compensation_stuck(order.order_id, _stuck(parked))
    tracker.record(EntryKind.NOTIFICATION, NotificationKind.COMPENSATION_STUCK.value)
    while parked:
        request = await desk.await_resolution()
        if request.action is Resolution.RETRY:
            parked = await _retry(parked, saga)
        else:
            await _record_by_hand(parked, request, order)
            parked = []
        if parked:
            await _park(parked, order, tracker)
            desk.resolution_done()
    # The last answer's update returns once the order is cancelled (`OrderDesk.resolution_done`).


async def _park(parked: list[Parked], order: Order, tracker: OrderTracker) -> None:
    stuck = _stuck(parked)
    tracker.advance(OrderStatus.NEEDS_ATTENTION, "needs attention", Service.ORDERS, stuck)
    tracker.waiting(f"a person to retry or undo by hand: {stuck}", None)
    record = RecordOrderParked(
        order_id=order.order_id,
        parked=[
            ParkedCompensation(
                compensation=step.step.compensation, why=step.why[:500], since=step.since
            )
            for step in parked
        ],
        at=workflow.now(),
    )
    await orders.record_order_parked(record)


async def _retry(parked: list[Parked], saga: Saga) -> list[Parked]:
    still = []
    for one in parked:
        again = await saga.attempt(one.step)
        if again is not None:
            still.append(again)
    return still


async def _record_by_hand(parked: list[Parked], request: Resolve, order: Order) -> None:
    assert request.note is not None  # the request's own validation
    for one in parked:
        compensation = one.step.compensation
        await record_resolved_by_hand(
            order.order_id, compensation, request.resolved_by, request.note
        )


def _stuck(parked: list[Parked]) -> str:
    return "; ".join(f"{one.step.what}: {one.why}" for one in parked)
