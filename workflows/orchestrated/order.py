"""The orchestrated order: one workflow drives every service, step by step, with a saga.

Its `run` is the whole process; each step (what it calls, what it registers to undo, what the
timeline notes) is in workflows/orchestrated/steps.py, which the hybrid's orchestrator shares.
Here is what is this style's own: the parcel handed to a child workflow, `ShipmentWorkflow`,
that follows it to its end and signals its stages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

from domain import search_attributes
from domain.commands import QUERY_STATUS
from domain.messages.shipment import (
    SIGNAL_SHIPMENT_PROGRESS,
    ShipmentProgress,
    ShipmentRequest,
    ShipmentResult,
    ShipmentStage,
)
from domain.order import Order
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES, Service, Style, shipment_workflow_id
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from workflows.desk import DeskUpdates, OrderDesk
from workflows.failures import business_failure
from workflows.orchestrated.shipment import LEAN_HISTORY_MEMO, ShipmentWorkflow
from workflows.orchestrated.steps import OrderSteps

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
    (`approve`, `reject`, `cancel`, `change_address`, `resolve`: `DeskUpdates`) whose validators
    refuse what the order's stage does not allow, and read it through the `status` query.
    """

    @workflow.init
    def __init__(self, order: Order) -> None:
        self._steps = OrderSteps(order, Style.ORCHESTRATED)

    @workflow.run
    async def run(self, order: Order) -> OrderOutcome:
        steps = self._steps
        if not steps.begin():
            return await steps.run_before_cancel_safety(self._until_dispatch, self._deliver)
        try:
            await steps.record_placed()
            shipment = await self._until_dispatch()
        except BaseException as error:  # a cancel of the workflow may come as any of several
            return await steps.stop(error)
        return await steps.past_the_pivot(self._deliver_and_end(shipment))

    async def _until_dispatch(self) -> Awaitable[ShipmentResult]:
        steps = self._steps
        await steps.reserve_stock()
        await steps.authorize_payment()
        await steps.approve_if_needed()
        await steps.await_dispatch_slot()
        return await steps.hand_over(self._start_shipment)

    async def _deliver_and_end(self, shipment: Awaitable[ShipmentResult]) -> OrderOutcome:
        return await self._steps.end(await self._deliver(shipment))

    async def _deliver(self, shipment: Awaitable[ShipmentResult]) -> OrderOutcome:
        await self._steps.capture_consume_and_notify()
        result = await shipment
        self._hear_progress(result.progress)
        return await self._steps.settle(result)

    # -- the parcel, handed to a child workflow ----------------------------------------------

    async def _start_shipment(self) -> Awaitable[ShipmentResult]:
        """Start the shipment; return once the parcel is dispatched (a business failure before
        that cancels the order), with what to await for the shipment's result."""
        steps = self._steps
        order = steps.order
        shipment = await workflow.start_child_workflow(
            ShipmentWorkflow.run,
            ShipmentRequest.for_order(order, steps.tracker.address),
            id=shipment_workflow_id(order.order_id),
            task_queue=Service.SHIPPING.task_queue,
            search_attributes=search_attributes.for_order(
                order.order_id,
                order.customer.id,
                Style.ORCHESTRATED.value,
                OrderStatus.DISPATCHING.value,
            ),
            static_summary=f"Shipment of order {order.order_id}",
            memo={LEAN_HISTORY_MEMO: True} if steps.lean else None,
            # The parcel is on its way: it is followed to its end (a lost one refunded) even if
            # this workflow is terminated or reset meanwhile.
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(lambda: steps.tracking_number is not None or shipment.done())
        if steps.tracking_number is None:
            try:
                await shipment
            except ChildWorkflowError as failure:
                raise business_failure(failure) from failure
        return shipment

    @workflow.signal(name=SIGNAL_SHIPMENT_PROGRESS)
    def shipment_progress(self, progress: ShipmentProgress) -> None:
        """The shipment's stages, from the shipment child, once dispatch began. A signal cannot
        be refused as an update can, so one that no shipment of this order sent (an order that
        has not begun dispatch has none, or one of another order) is dropped, and logged: the
        Temporal CLI would otherwise move an order that waits for approval to "dispatched"."""
        order_id = self._steps.order.order_id
        status = self._steps.tracker.status
        if not status.is_past_dispatch or progress.order_id != order_id:
            workflow.logger.warning(
                "order %s: shipment progress (%s, of order %s) dropped: no shipment of it sent "
                "this while it is %s",
                order_id,
                progress.stage.value,
                progress.order_id[:100],
                status.value,
            )
            return
        self._hear_progress([*progress.earlier, progress])

    def _hear_progress(self, stages: Sequence[ShipmentProgress]) -> None:
        """The shipment's stages, in order: by signal, or with its result (those it had no
        reason to signal)."""
        tracker = self._steps.tracker
        for progress in stages:
            if progress.stage is ShipmentStage.DISPATCHED:
                self._steps.tracking_number = progress.tracking_number
            status = _STATUS_BY_SHIPMENT_STAGE.get(progress.stage)
            what = f"shipment {progress.stage.value}"
            if status is not None:
                tracker.advance_if_forward(status, what, Service.SHIPPING, progress.detail)
            else:
                tracker.record(EntryKind.SIGNAL, what, Service.SHIPPING, progress.detail)

    # -- what people ask (the updates: DeskUpdates) and read -------------------------------------

    def _open_desk(self) -> OrderDesk:
        return self._steps.desk

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> OrderView:
        return self._steps.tracker.view()
