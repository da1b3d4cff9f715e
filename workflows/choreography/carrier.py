"""What the choreographed shipping participant and the hybrid style's carrier hand-off share:
book a carrier, dispatch, follow the parcel under the delivery deadline, and announce each stage.
Each says in its own events what happened (`announce`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads as p
from domain.events.records import ParticipantStart
from domain.messages.shipment import ParcelShipment, ShipmentStage
from domain.messages.shipping import CarrierReport, CarrierSignals
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, step_failed
from workflows.parcel import CarrierReports, ParcelWatch
from workflows.services import notifications, shipping


@dataclass(frozen=True)
class StageNews:
    """One stage of the parcel's journey, with what its announcement may need."""

    stage: ShipmentStage | None
    """None: no carrier would take the parcel."""
    request: ParcelShipment
    tracking_number: str = ""
    carrier: str = ""
    at: datetime | None = None
    late: bool = False
    failure: p.StepFailed | None = None


class ParcelShipper(CarrierReports, Participant):
    escalates_late_delivery = False
    """Whether this participant tells operations of a late delivery itself (in the
    choreographed style the notifications service reacts to the event instead)."""

    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._parcel = ParcelWatch(start.order_id)
        self._finished = False

    def done(self) -> bool:
        return self._finished

    async def announce(self, news: StageNews, cause: Received) -> None:
        raise NotImplementedError

    async def ship(self, request: ParcelShipment, cause: Received) -> None:
        order_id = request.order_id
        try:
            booking = await shipping.book_shipment(request)
        except ActivityError as failure:
            await shipping.cancel_shipment(order_id)
            await self.announce(StageNews(None, request, failure=step_failed(failure)), cause)
            return
        number = booking.tracking_number
        self._parcel.tracking_number = number
        report_to = CarrierSignals(workflow_id=workflow.info().workflow_id)
        await shipping.dispatch_shipment(order_id, report_to, request.simulate_carrier)
        self._parcel.dispatched()
        await self.announce(
            StageNews(ShipmentStage.DISPATCHED, request, number, booking.carrier), cause
        )

        self._parcel.lean = self.lean()

        async def picked_up(report: CarrierReport) -> None:
            news = StageNews(ShipmentStage.PICKED_UP, request, number, at=report.at)
            await self.announce(news, cause)

        if await self._parcel.follow(request.delivery_deadline, picked_up):
            await self._delivered(request, late=False, cause=cause)
            return
        await self.announce(StageNews(ShipmentStage.LATE, request, number), cause)
        if self.escalates_late_delivery:
            await notifications.notify_delivery_late(order_id, number, request.delivery_deadline)
        if await self._parcel.follow(request.lost_after, picked_up):
            await self._delivered(request, late=True, cause=cause)
            return
        await shipping.mark_parcel_lost(order_id)
        await self.announce(StageNews(ShipmentStage.LOST, request, number), cause)

    async def _delivered(self, request: ParcelShipment, late: bool, cause: Received) -> None:
        news = StageNews(
            ShipmentStage.DELIVERED,
            request,
            self._parcel.tracking_number,
            at=self._parcel.delivery.at,
            late=late,
        )
        await self.announce(news, cause)
