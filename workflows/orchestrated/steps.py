"""The steps of an orchestrated order's lifecycle, each with what the order's timeline notes of it.

Two workflows compose their process from these steps and differ only in how the parcel is
handed over and followed: `OrderWorkflow` (workflows/orchestrated/order.py) starts a child
workflow, `HybridOrderWorkflow` (workflows/hybrid/order.py) publishes an event to the warehouse's
choreography. Each workflow's `run` lists the steps in order; this module holds what each does:

| step | what it does |
|---|---|
| `record_placed` | register the order, then tell the customer it was received |
| `reserve_stock` | register *release the stock*, then reserve |
| `authorize_payment` | register *void the payment*, then authorize |
| `approve_if_needed` | above the threshold, ask a person and wait within the window |
| `await_dispatch_slot` | the warehouse's handling time; the customer may still cancel |
| `hand_over` | dispatch, the pivot: past it the order only goes forward |
| `capture_consume_and_notify` | capture the payment, consume the stock, say it is on its way |
| `settle` | a lost parcel refunded, a delivered one completed |
| `end` | the last notice, and the order's end on record |

A business failure or a cancel before the pivot ends in `stop`: the saga undoes, in reverse,
what was done (`_compensate`), and parks what cannot be undone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.messages.inventory import ConsumeResult
from domain.messages.notifications import NotificationKind
from domain.messages.payments import CaptureResult
from domain.messages.resolution import Compensation
from domain.messages.shipment import ShipmentResult, ShipmentStage
from domain.money import format_cents
from domain.order import Order
from domain.policy import needs_approval
from domain.services import Service, Style
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome
from workflows.choreography.versions import CANCEL_SAFE, LEAN_HISTORY
from workflows.desk import OrderDesk
from workflows.failures import OrderCancelledError, business_failure, workflow_cancelled
from workflows.parking import until_resolved
from workflows.saga import Saga, to_the_end
from workflows.services import inventory, notifications, orders, payments
from workflows.stopping import stop_the_order
from workflows.tracking import OrderTracker

T = TypeVar("T")
HandedOver = TypeVar("HandedOver")


class OrderSteps:
    """One order's steps, its timeline (`tracker`), its desk of updates (`desk`) and its saga."""

    def __init__(self, order: Order, style: Style) -> None:
        self.order = order
        self.style = style
        self.tracker = OrderTracker(order, style)
        self.desk = OrderDesk(order.order_id, self.tracker)
        self.saga = Saga(on_compensated=self._note_compensated)
        self.tracking_number: str | None = None
        self.lean = False
        """`LEAN_HISTORY`: the same steps in fewer history events (orders placed before it ran
        without)."""

    def begin(self) -> bool:
        """Start the timeline, with the versions of the process this order runs; False for an
        order placed before `CANCEL_SAFE`, which runs `run_before_cancel_safety` instead.

        LEAN_HISTORY came after CANCEL_SAFE and implies it: one marker, not two, per order."""
        self.lean = workflow.patched(LEAN_HISTORY)
        if not self.lean and not workflow.patched(CANCEL_SAFE):
            return False
        self.tracker.start()
        if self.lean:
            self.tracker.go_lean()
        return True

    # -- before the pivot ------------------------------------------------------------------

    async def record_placed(self) -> None:
        """Register the order, then tell the customer it was received. The register is never cut
        short (the outcome recorded at the end needs it); a cancel that came meanwhile stops the
        order right after it."""
        await to_the_end(
            orders.record_order_placed(self.order, self.style, local=self.lean), lambda: None
        )
        if workflow.cancellation_reason() is not None:
            raise workflow_cancelled()
        await self.notify(NotificationKind.ORDER_RECEIVED, notifications.ORDER_RECEIVED_BODY)

    async def reserve_stock(self) -> None:
        order = self.order
        self.saga.before_step(
            Compensation.RELEASE_STOCK,
            lambda: inventory.release_stock(
                order.order_id, budget=order.timeouts.compensation_budget
            ),
        )
        reservation = await _step(inventory.reserve_stock(order))
        units = sum(line.quantity for line in reservation.lines)
        self.tracker.advance(
            OrderStatus.STOCK_RESERVED, "stock reserved", Service.INVENTORY, f"{units} units"
        )
        self.desk.stop_if_cancel_requested()

    async def authorize_payment(self) -> None:
        order = self.order
        self.saga.before_step(
            Compensation.VOID_PAYMENT,
            lambda: payments.reverse_payment(
                order.order_id,
                why="compensation: void payment",
                budget=order.timeouts.compensation_budget,
            ),
        )
        authorization = await _step(payments.authorize_payment(order))
        self.tracker.advance(
            OrderStatus.PAYMENT_AUTHORIZED,
            "payment authorized",
            Service.PAYMENTS,
            f"{format_cents(authorization.amount_cents)} ({authorization.authorization_id})",
        )
        self.desk.stop_if_cancel_requested()

    async def approve_if_needed(self) -> None:
        order = self.order
        if not needs_approval(order.total_cents):
            return
        window = order.timeouts.approval_window
        await self.desk.await_approval(
            window,
            lambda: self.notify(
                NotificationKind.APPROVAL_REQUESTED,
                notifications.approval_requested_body(order.order_id, order.total_cents, window),
            ),
        )

    async def await_dispatch_slot(self) -> None:
        await self.desk.await_dispatch_slot(self.order.timeouts.handling_time)
        # From here on `cancel` and `change_address` are refused: the parcel is being handed over.
        self.tracker.advance(OrderStatus.DISPATCHING, "dispatch begins", Service.SHIPPING)

    async def hand_over(self, dispatch: Callable[[], Awaitable[HandedOver]]) -> HandedOver:
        """Dispatch, to the end whatever cancel comes meanwhile: the parcel is being handed over.
        Returns once it was (a business failure before that cancels the order)."""
        return await to_the_end(dispatch(), self.tracker.note_ignored_cancel)

    async def stop(self, error: BaseException) -> OrderOutcome:
        """The order stopped before the pivot, for the reason `error` stands for: undo and end."""
        return await stop_the_order(error, self._undo_and_end, self.tracker)

    # -- past the pivot ------------------------------------------------------------------

    async def past_the_pivot(self, rest: Awaitable[OrderOutcome]) -> OrderOutcome:
        """Nothing is undone from here on; a cancel is noted and ignored."""
        self.saga.pivot()
        return await to_the_end(rest, self.tracker.note_ignored_cancel)

    async def capture_consume_and_notify(self) -> None:
        order_id = self.order.order_id
        if self.lean:
            await self._capture_consume_and_notify_at_once()
            return
        self._note_captured(await payments.capture_payment(order_id))
        self._note_consumed(await inventory.consume_stock(order_id))
        await self.notify(
            NotificationKind.ORDER_DISPATCHED, notifications.dispatched_body(self.tracking_number)
        )

    async def settle(self, result: ShipmentResult) -> OrderOutcome:
        """A lost parcel is refunded; a delivered one completes the order."""
        if result.stage is ShipmentStage.LOST:
            reversal = await payments.reverse_payment(
                self.order.order_id, why="refund: the parcel was lost"
            )
            return self.tracker.lost(reversal.action, reversal.amount_cents)
        return self.tracker.completed(result.late)

    async def end(self, outcome: OrderOutcome) -> OrderOutcome:
        await self.notify(*notifications.final_notice(outcome))
        await orders.record_order_ended(outcome, self.style, local=self.lean)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    # -- the orders placed before CANCEL_SAFE ------------------------------------------------

    async def run_before_cancel_safety(
        self,
        until_dispatch: Callable[[], Awaitable[HandedOver]],
        deliver: Callable[[HandedOver], Awaitable[OrderOutcome]],
    ) -> OrderOutcome:
        """The lifecycle as it ran before `CANCEL_SAFE`, for orders placed before it: a cancel
        during an activity or a compensation was not caught, or not as a cancel. Remove once no
        such order is open (and its histories are dropped from tests/replay)."""
        self.tracker.start()
        await orders.record_order_placed(self.order, self.style)
        await self.notify(NotificationKind.ORDER_RECEIVED, notifications.ORDER_RECEIVED_BODY)
        try:
            outcome = await self._fulfil_before_cancel_safety(until_dispatch, deliver)
        except asyncio.CancelledError:
            await self.end(self.tracker.cancelled_outcome())
            raise
        return await self.end(outcome)

    async def _fulfil_before_cancel_safety(
        self,
        until_dispatch: Callable[[], Awaitable[HandedOver]],
        deliver: Callable[[HandedOver], Awaitable[OrderOutcome]],
    ) -> OrderOutcome:
        try:
            handed_over = await until_dispatch()
        except OrderCancelledError as cancelled:
            await self._compensate(cancelled)
            return self.tracker.cancelled_outcome()
        except asyncio.CancelledError:
            await self._compensate(workflow_cancelled())
            raise
        self.saga.pivot()
        return await to_the_end(deliver(handed_over), self.tracker.note_ignored_cancel)

    # -- the undoing -----------------------------------------------------------------------

    async def _undo_and_end(self, stopped: OrderCancelledError) -> OrderOutcome:
        await self._compensate(stopped)
        return await self.end(self.tracker.cancelled_outcome())

    async def _compensate(self, cancelled: OrderCancelledError) -> None:
        saga = self.saga
        self.tracker.reason = cancelled.reason
        self.tracker.advance(
            OrderStatus.COMPENSATING,
            f"compensating: {cancelled.reason.value}",
            Service.ORDERS,
            f"{cancelled.detail}; to undo: {', '.join(saga.pending) or 'nothing'}",
        )
        parked = await saga.compensate()
        if parked:
            await until_resolved(parked, saga, self.order, self.desk, self.tracker)
        self.tracker.cancelled(cancelled.reason, cancelled.detail)
        self.desk.resolution_done()

    # -- notes on the timeline -------------------------------------------------------------

    async def notify(self, kind: NotificationKind, body: str) -> None:
        await notifications.notify(self.order.order_id, self.order.customer.email, kind, body)
        self._note_notified(kind)

    async def _capture_consume_and_notify_at_once(self) -> None:
        """Past the pivot the three only go forward and none needs another's result: they run
        side by side, in one workflow task, and the timeline notes them in their usual order."""
        order = self.order
        capture, consumed, _ = await asyncio.gather(
            payments.capture_payment(order.order_id),
            inventory.consume_stock(order.order_id),
            notifications.notify(
                order.order_id,
                order.customer.email,
                NotificationKind.ORDER_DISPATCHED,
                notifications.dispatched_body(self.tracking_number),
            ),
        )
        self._note_captured(capture)
        self._note_consumed(consumed)
        self._note_notified(NotificationKind.ORDER_DISPATCHED)

    def _note_captured(self, capture: CaptureResult) -> None:
        self.tracker.record(
            EntryKind.STEP, "payment captured", Service.PAYMENTS, format_cents(capture.amount_cents)
        )

    def _note_consumed(self, consumed: ConsumeResult) -> None:
        self.tracker.record(
            EntryKind.STEP, "stock consumed", Service.INVENTORY, f"{consumed.consumed_units} units"
        )

    def _note_notified(self, kind: NotificationKind) -> None:
        self.tracker.record(EntryKind.NOTIFICATION, kind.value, Service.NOTIFICATIONS)

    def _note_compensated(self, what: str) -> None:
        self.tracker.record(EntryKind.COMPENSATION, what)


async def _step(step: Awaitable[T]) -> T:
    """Run a step before the pivot; a business failure cancels the order."""
    try:
        return await step
    except ActivityError as failure:
        raise business_failure(failure) from failure
