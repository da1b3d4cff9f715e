"""The orchestrated order: one workflow drives every service, step by step, with a saga."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

from domain import search_attributes
from domain.commands import QUERY_STATUS
from domain.messages.inventory import ConsumeResult
from domain.messages.notifications import NotificationKind
from domain.messages.payments import CaptureResult
from domain.messages.resolution import Compensation
from domain.messages.shipment import (
    SIGNAL_SHIPMENT_PROGRESS,
    ShipmentProgress,
    ShipmentRequest,
    ShipmentResult,
    ShipmentStage,
)
from domain.money import format_cents
from domain.order import Order
from domain.policy import needs_approval
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES, Service, Style, shipment_workflow_id
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from workflows.choreography.versions import CANCEL_SAFE, LEAN_HISTORY
from workflows.desk import DeskUpdates, OrderDesk
from workflows.failures import OrderCancelledError, business_failure, workflow_cancelled
from workflows.orchestrated.shipment import LEAN_HISTORY_MEMO, ShipmentWorkflow
from workflows.parking import until_resolved
from workflows.saga import Saga, to_the_end
from workflows.services import inventory, notifications, orders, payments
from workflows.stopping import stop_the_order
from workflows.tracking import OrderTracker

T = TypeVar("T")

_STATUS_BY_SHIPMENT_STAGE = {
    ShipmentStage.DISPATCHED: OrderStatus.DISPATCHED,
    ShipmentStage.PICKED_UP: OrderStatus.IN_TRANSIT,
    ShipmentStage.LATE: OrderStatus.DELIVERY_LATE,
}


@workflow.defn(name=ORCHESTRATOR_WORKFLOW_TYPES[Style.ORCHESTRATED])
class OrderWorkflow(DeskUpdates):
    """Reserve stock, authorize payment, wait for approval above the threshold, ship, capture at
    dispatch, notify: the order's whole life in one place.

    Before dispatch every failure (a business error, a refusal, a timeout, a cancellation by the
    customer or of this workflow) undoes what was done, in reverse, by the saga. Dispatch is the
    pivot: after it the order only moves forward. People talk to the order through updates
    (`approve`, `reject`, `cancel`, `change_address`) whose validators refuse what the order's
    stage does not allow, and read it through the `status` query.
    """

    style = Style.ORCHESTRATED
    """The hybrid style's orchestrator is this workflow with another way to ship."""

    @workflow.init
    def __init__(self, order: Order) -> None:
        self._order = order
        self._tracker = OrderTracker(order, self.style)
        self._desk = OrderDesk(order.order_id, self._tracker)
        self._tracking_number: str | None = None
        self._lean = False
        """`LEAN_HISTORY`: the same steps in fewer history events (orders placed before it ran
        without)."""

    @workflow.run
    async def run(self, order: Order) -> OrderOutcome:
        # LEAN_HISTORY came after CANCEL_SAFE and implies it: one marker, not two, per order.
        self._lean = workflow.patched(LEAN_HISTORY)
        if not self._lean and not workflow.patched(CANCEL_SAFE):
            return await self._run_before_cancel_safety(order)
        self._tracker.start()
        if self._lean:
            self._tracker.go_lean()
        saga = Saga(on_compensated=self._note_compensated)
        try:
            await self._first_record()
            shipment = await self._until_dispatch(saga)
        except BaseException as error:  # a cancel of the workflow may come as any of several
            return await stop_the_order(
                error, lambda stopped: self._undo_and_end(saga, stopped), self._tracker
            )
        saga.pivot()
        return await to_the_end(self._deliver_and_end(shipment), self._tracker.note_ignored_cancel)

    # -- the process ----------------------------------------------------------------------

    async def _first_record(self) -> None:
        """Register the order, then tell the customer it was received. The register is never cut
        short (the outcome recorded at the end needs it); a cancel that came meanwhile stops the
        order right after it."""
        await to_the_end(
            orders.record_order_placed(self._order, self.style, local=self._lean), lambda: None
        )
        if workflow.cancellation_reason() is not None:
            raise workflow_cancelled()
        await self._notify(NotificationKind.ORDER_RECEIVED, notifications.ORDER_RECEIVED_BODY)

    async def _undo_and_end(self, saga: Saga, stopped: OrderCancelledError) -> OrderOutcome:
        await self._compensate(saga, stopped)
        outcome = self._tracker.cancelled_outcome()
        await self._end(outcome)
        return outcome

    async def _deliver_and_end(self, shipment: Awaitable[ShipmentResult]) -> OrderOutcome:
        outcome = await self._deliver(shipment)
        await self._end(outcome)
        return outcome

    async def _run_before_cancel_safety(self, order: Order) -> OrderOutcome:
        """The lifecycle as it ran before `CANCEL_SAFE`, for orders placed before it: a cancel
        during an activity or a compensation was not caught, or not as a cancel. Remove once no
        such order is open (and its histories are dropped from tests/replay)."""
        self._tracker.start()
        await orders.record_order_placed(order, self.style)
        await self._notify(NotificationKind.ORDER_RECEIVED, notifications.ORDER_RECEIVED_BODY)
        try:
            outcome = await self._fulfil_before_cancel_safety()
        except asyncio.CancelledError:
            await self._end(self._tracker.cancelled_outcome())
            raise
        await self._end(outcome)
        return outcome

    async def _fulfil_before_cancel_safety(self) -> OrderOutcome:
        saga = Saga(on_compensated=self._note_compensated)
        try:
            shipment = await self._until_dispatch(saga)
        except OrderCancelledError as cancelled:
            await self._compensate(saga, cancelled)
            return self._tracker.cancelled_outcome()
        except asyncio.CancelledError:
            await self._compensate(saga, workflow_cancelled())
            raise
        saga.pivot()
        return await to_the_end(self._deliver(shipment), self._tracker.note_ignored_cancel)

    async def _until_dispatch(self, saga: Saga) -> Awaitable[ShipmentResult]:
        order = self._order
        budget = order.timeouts.compensation_budget
        saga.before_step(
            Compensation.RELEASE_STOCK,
            lambda: inventory.release_stock(order.order_id, budget=budget),
        )
        reservation = await self._step(inventory.reserve_stock(order))
        units = sum(line.quantity for line in reservation.lines)
        self._tracker.advance(
            OrderStatus.STOCK_RESERVED, "stock reserved", Service.INVENTORY, f"{units} units"
        )
        self._desk.stop_if_cancel_requested()

        saga.before_step(
            Compensation.VOID_PAYMENT,
            lambda: payments.reverse_payment(
                order.order_id, why="compensation: void payment", budget=budget
            ),
        )
        authorization = await self._step(payments.authorize_payment(order))
        self._tracker.advance(
            OrderStatus.PAYMENT_AUTHORIZED,
            "payment authorized",
            Service.PAYMENTS,
            f"{format_cents(authorization.amount_cents)} ({authorization.authorization_id})",
        )
        self._desk.stop_if_cancel_requested()

        if needs_approval(order.total_cents):
            await self._await_approval()
        await self._desk.await_dispatch_slot(self._order.timeouts.handling_time)
        # From here on `cancel` and `change_address` are refused: the parcel is being handed over.
        self._tracker.advance(OrderStatus.DISPATCHING, "dispatch begins", Service.SHIPPING)
        return await to_the_end(self._start_shipment(), self._tracker.note_ignored_cancel)

    async def _await_approval(self) -> None:
        window = self._order.timeouts.approval_window
        await self._desk.await_approval(
            window,
            lambda: self._notify(
                NotificationKind.APPROVAL_REQUESTED,
                notifications.approval_requested_body(
                    self._order.order_id, self._order.total_cents, window
                ),
            ),
        )

    async def _start_shipment(self) -> Awaitable[ShipmentResult]:
        """Start the shipment; return once the parcel is dispatched (a business failure before
        that cancels the order), with what to await for the shipment's result."""
        order = self._order
        request = self._shipment_request()
        shipment = await workflow.start_child_workflow(
            ShipmentWorkflow.run,
            request,
            id=shipment_workflow_id(order.order_id),
            task_queue=Service.SHIPPING.task_queue,
            search_attributes=search_attributes.for_order(
                order.order_id,
                order.customer.id,
                Style.ORCHESTRATED.value,
                OrderStatus.DISPATCHING.value,
            ),
            static_summary=f"Shipment of order {order.order_id}",
            memo={LEAN_HISTORY_MEMO: True} if self._lean else None,
            # The parcel is on its way: it is followed to its end (a lost one refunded) even if
            # this workflow is terminated or reset meanwhile.
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(lambda: self._tracking_number is not None or shipment.done())
        if self._tracking_number is None:
            try:
                await shipment
            except ChildWorkflowError as failure:
                raise business_failure(failure) from failure
        return shipment

    def _shipment_request(self) -> ShipmentRequest:
        return ShipmentRequest.for_order(self._order, self._tracker.address)

    async def _deliver(self, shipment: Awaitable[ShipmentResult]) -> OrderOutcome:
        order_id = self._order.order_id
        if self._lean:
            await self._charge_consume_and_notify_at_once()
        else:
            capture = await payments.capture_payment(order_id)
            self._note_captured(capture)
            self._note_consumed(await inventory.consume_stock(order_id))
            await self._notify(
                NotificationKind.ORDER_DISPATCHED,
                notifications.dispatched_body(self._tracking_number),
            )
        result = await shipment
        self._hear_progress(result.progress)
        if result.stage is ShipmentStage.LOST:
            reversal = await payments.reverse_payment(order_id, why="refund: the parcel was lost")
            return self._tracker.lost(reversal.action, reversal.amount_cents)
        return self._tracker.completed(result.late)

    async def _charge_consume_and_notify_at_once(self) -> None:
        """Past the pivot the three only go forward and none needs another's result: they run
        side by side, in one workflow task, and the timeline notes them in their usual order."""
        order = self._order
        capture, consumed, _ = await asyncio.gather(
            payments.capture_payment(order.order_id),
            inventory.consume_stock(order.order_id),
            notifications.notify(
                order.order_id,
                order.customer.email,
                NotificationKind.ORDER_DISPATCHED,
                notifications.dispatched_body(self._tracking_number),
            ),
        )
        self._note_captured(capture)
        self._note_consumed(consumed)
        self._note_notified(NotificationKind.ORDER_DISPATCHED)

    def _note_captured(self, capture: CaptureResult) -> None:
        self._tracker.record(
            EntryKind.STEP,
            "payment captured",
            Service.PAYMENTS,
            f"{format_cents(capture.amount_cents)}",
        )

    def _note_consumed(self, consumed: ConsumeResult) -> None:
        self._tracker.record(
            EntryKind.STEP, "stock consumed", Service.INVENTORY, f"{consumed.consumed_units} units"
        )

    async def _compensate(self, saga: Saga, cancelled: OrderCancelledError) -> None:
        self._tracker.reason = cancelled.reason
        self._tracker.advance(
            OrderStatus.COMPENSATING,
            f"compensating: {cancelled.reason.value}",
            Service.ORDERS,
            f"{cancelled.detail}; to undo: {', '.join(saga.pending) or 'nothing'}",
        )
        parked = await saga.compensate()
        if parked:
            await until_resolved(parked, saga, self._order, self._desk, self._tracker)
        self._tracker.cancelled(cancelled.reason, cancelled.detail)
        self._desk.resolution_done()

    async def _end(self, outcome: OrderOutcome) -> None:
        await self._notify(*notifications.final_notice(outcome))
        await orders.record_order_ended(outcome, self.style, local=self._lean)
        await workflow.wait_condition(workflow.all_handlers_finished)

    # -- updates (from DeskUpdates), query and signal ------------------------------------------

    def _open_desk(self) -> OrderDesk:
        return self._desk

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> OrderView:
        return self._tracker.view()

    @workflow.signal(name=SIGNAL_SHIPMENT_PROGRESS)
    def shipment_progress(self, progress: ShipmentProgress) -> None:
        self._hear_progress([*progress.earlier, progress])

    def _hear_progress(self, stages: Sequence[ShipmentProgress]) -> None:
        """The shipment's stages, in order: by signal, or with its result (those it had no
        reason to signal)."""
        for progress in stages:
            if progress.stage is ShipmentStage.DISPATCHED:
                self._tracking_number = progress.tracking_number
            status = _STATUS_BY_SHIPMENT_STAGE.get(progress.stage)
            what = f"shipment {progress.stage.value}"
            if status is not None:
                self._tracker.advance_if_forward(status, what, Service.SHIPPING, progress.detail)
            else:
                self._tracker.record(EntryKind.SIGNAL, what, Service.SHIPPING, progress.detail)

    # -- helpers -----------------------------------------------------------------------------

    async def _step(self, step: Awaitable[T]) -> T:
        """Run a step before the pivot; a business failure cancels the order."""
        try:
            return await step
        except ActivityError as failure:
            raise business_failure(failure) from failure

    async def _notify(self, kind: NotificationKind, body: str) -> None:
        await notifications.notify(self._order.order_id, self._order.customer.email, kind, body)
        self._note_notified(kind)

    def _note_notified(self, kind: NotificationKind) -> None:
        self._tracker.record(EntryKind.NOTIFICATION, kind.value, Service.NOTIFICATIONS)

    def _note_compensated(self, what: str) -> None:
        self._tracker.record(EntryKind.COMPENSATION, what)
