"""The orchestrated style's child workflow that follows one parcel."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.messages.resolution import Compensation
from domain.messages.shipment import (
    SIGNAL_SHIPMENT_PROGRESS,
    ShipmentProgress,
    ShipmentRequest,
    ShipmentResult,
    ShipmentStage,
)
from domain.messages.shipping import (
    BookingResult,
    CarrierReport,
)
from domain.services import SHIPMENT_WORKFLOW_TYPE
from domain.status import OrderStatus
from workflows.parcel import CarrierReports, ParcelWatch, dispatch, follow_to_the_end
from workflows.saga import Saga, to_the_end
from workflows.services import notifications, payments, shipping
from workflows.status_attribute import StatusAttribute

_ORDER_STATUS_BY_STAGE = {
    ShipmentStage.BOOKED: OrderStatus.DISPATCHING,
    ShipmentStage.DISPATCHED: OrderStatus.DISPATCHED,
    ShipmentStage.PICKED_UP: OrderStatus.IN_TRANSIT,
    ShipmentStage.LATE: OrderStatus.DELIVERY_LATE,
    ShipmentStage.DELIVERED: OrderStatus.COMPLETED,
    ShipmentStage.LOST: OrderStatus.CANCELLED,
}

LEAN_HISTORY_MEMO = "lean_history"
"""The memo by which an order with `LEAN_HISTORY` starts its shipment with it too: the child
takes its order's choice from its start, rather than asking for a marker of its own (a marker
and a search attribute write, each an event and a billable action). Shipments started before it
have no such memo: False."""

_SIGNALLED_STAGES = frozenset(
    {ShipmentStage.DISPATCHED, ShipmentStage.PICKED_UP, ShipmentStage.LATE}
)
"""The stages the order hears of by signal (`LEAN_HISTORY`): dispatch, which it waits on, and
those it shows while the parcel travels. The booking goes with the dispatch; the delivery or the
loss with the result, which the order awaits anyway."""


@workflow.defn(name=SHIPMENT_WORKFLOW_TYPE)
class ShipmentWorkflow(CarrierReports):
    """Books a carrier, dispatches the parcel, then waits for the carrier's reports (`picked_up`,
    `delivered`) under the delivery deadline.

    A late delivery escalates to operations and keeps waiting: after dispatch nothing is undone.
    Only when the parcel is still missing at `lost_after` is it declared lost. Every stage reaches
    the parent order: by a signal where the order waits on it or shows it (`_SIGNALLED_STAGES`),
    the others with the next signal or with the result.
    """

    @workflow.init
    def __init__(self, request: ShipmentRequest) -> None:
        self._request = request
        self._stage: ShipmentStage | None = None
        self._parcel = ParcelWatch(request.order_id)
        self._orphaned = False
        """The parent order is gone (terminated after dispatch): nobody hears this shipment."""
        self._lean = False
        """`LEAN_HISTORY`: fewer signals, upserts and events for the same stages."""
        self._status_attribute = StatusAttribute()
        self._untold: list[ShipmentProgress] = []
        """Stages the parent was not signalled yet (`LEAN_HISTORY`)."""

    @workflow.run
    async def run(self, request: ShipmentRequest) -> ShipmentResult:
        self._lean = bool(workflow.memo_value(LEAN_HISTORY_MEMO, False))
        if self._lean:
            self._status_attribute.coalesce()
            self._parcel.lean = True
        saga = Saga()
        saga.before_step(
            Compensation.CANCEL_SHIPMENT, lambda: shipping.cancel_shipment(request.order_id)
        )
        try:
            booking = await shipping.book_shipment(request)
        except (Exception, asyncio.CancelledError):  # a cancel too; not GeneratorExit (eviction)
            parked = await saga.compensate()
            assert not parked, "cancel_shipment is retried until done: it is never parked"
            raise
        # Booked: dispatch follows and nothing is undone from here on.
        saga.pivot()
        self._parcel.tracking_number = booking.tracking_number
        return await to_the_end(self._dispatch_and_follow(booking), self._note_ignored_cancel)

    async def _dispatch_and_follow(self, booking: BookingResult) -> ShipmentResult:
        request = self._request
        await self._report(ShipmentStage.BOOKED, f"{booking.carrier} {booking.tracking_number}")
        await dispatch(self._parcel, request.order_id, request.simulate_carrier)
        await self._report(ShipmentStage.DISPATCHED, f"tracking number {booking.tracking_number}")
        return await follow_to_the_end(
            self._parcel, request.order_id, request.delivery_deadline, request.lost_after, self
        )

    def _note_ignored_cancel(self) -> None:
        workflow.logger.warning(
            "cancellation of shipment %s ignored: the parcel is booked and goes forward",
            self._request.order_id,
        )

    @workflow.query(name="stage")
    def stage(self) -> ShipmentStage | None:
        return self._stage

    # -- the parcel's stages (`workflows.parcel.ParcelStages`; its signals: `CarrierReports`) --

    async def on_picked_up(self, report: CarrierReport) -> None:
        await self._report(ShipmentStage.PICKED_UP, f"picked up at {report.at.isoformat()}")

    async def on_late(self) -> None:
        """Escalate to operations and keep waiting: after dispatch nothing is undone."""
        deadline = self._request.delivery_deadline
        await self._report(ShipmentStage.LATE, f"not delivered within {deadline}")
        await notifications.notify_delivery_late(
            self._request.order_id,
            self._parcel.tracking_number,
            deadline,
        )

    async def on_delivered(self, late: bool) -> ShipmentResult:
        report = self._parcel.delivery
        await self._report(ShipmentStage.DELIVERED, f"delivered at {report.at.isoformat()}")
        return ShipmentResult(
            order_id=self._request.order_id,
            stage=ShipmentStage.DELIVERED,
            tracking_number=self._parcel.tracking_number,
            delivered_at=report.at,
            late=late,
            progress=self._take_untold(),
        )

    async def on_lost(self) -> ShipmentResult:
        request = self._request
        await self._report(ShipmentStage.LOST, f"no delivery within {request.lost_after}")
        if self._orphaned:  # no parent order to refund the customer: this shipment does
            await payments.reverse_payment(request.order_id, why="refund: the parcel was lost")
        return ShipmentResult(
            order_id=request.order_id,
            stage=ShipmentStage.LOST,
            tracking_number=self._parcel.tracking_number,
            late=True,
            progress=self._take_untold(),
        )

    async def _report(self, stage: ShipmentStage, detail: str) -> None:
        """Tell the parent order, and keep this workflow's search attributes current."""
        self._stage = stage
        status = _ORDER_STATUS_BY_STAGE[stage]
        self._status_attribute.set(status)
        workflow.set_current_details(f"**{stage.value}**\n\n{detail}")
        parent = workflow.info().parent
        if parent is None:
            return
        progress = ShipmentProgress(
            order_id=self._request.order_id,
            stage=stage,
            at=workflow.now(),
            tracking_number=self._parcel.tracking_number or None,
            detail=detail,
        )
        if self._orphaned:
            return
        if self._lean:
            if not self._signalled(stage):
                self._untold.append(progress)
                return
            progress = progress.model_copy(update={"earlier": self._take_untold()})
        try:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                SIGNAL_SHIPMENT_PROGRESS, progress
            )
        except ApplicationError as failure:  # the parent was terminated: the parcel goes on
            self._orphaned = True
            workflow.logger.warning(
                "order %s: its order workflow is gone (%s); the shipment follows the parcel on",
                self._request.order_id,
                failure.message,
            )

    def _signalled(self, stage: ShipmentStage) -> bool:
        """Whether the order hears of `stage` by a signal of its own (`_SIGNALLED_STAGES`); a
        pickup reported together with the delivery goes with the result, as the order would show
        it for no time at all."""
        if stage is ShipmentStage.PICKED_UP and self._parcel.delivered_reported:
            return False
        return stage in _SIGNALLED_STAGES

    def _take_untold(self) -> list[ShipmentProgress]:
        untold, self._untold = self._untold, []
        return untold
