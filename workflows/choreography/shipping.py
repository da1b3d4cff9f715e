"""Shipping's part: once the order is confirmed, book a carrier, dispatch, follow the parcel under
the delivery deadline and announce each stage. A late delivery is announced, not undone."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads as p
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.shipment import ShipmentRequest
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant
from workflows.failures import business_failure
from workflows.parcel import ParcelWatch
from workflows.services import shipping


@workflow.defn(name="ShippingParticipant")
class ShippingParticipant(Participant):
    party = Party.SHIPPING

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._parcel = ParcelWatch(start.order_id)
        self._finished = False

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._finished

    @workflow.signal(name=CarrierEventKind.PICKED_UP.value)
    def picked_up(self, report: CarrierReport) -> None:
        self._parcel.accept(CarrierEventKind.PICKED_UP, report)

    @workflow.signal(name=CarrierEventKind.DELIVERED.value)
    def delivered(self, report: CarrierReport) -> None:
        self._parcel.accept(CarrierEventKind.DELIVERED, report)

    async def handle(self, received: Received) -> str:
        if not isinstance(received.payload, p.OrderConfirmed):
            return "ignored"
        self.tag_customer(received.payload.customer_id)
        await self._ship(received.payload.shipment, received)
        self._finished = True
        return "handled"

    async def _ship(self, request: ShipmentRequest, confirmed: Received) -> None:
        order_id = request.order_id
        try:
            booking = await shipping.book_shipment(
                order_id, request.address, request.parcels, request.simulate_booking_latency
            )
        except ActivityError as failure:
            await shipping.cancel_shipment(order_id)
            cancelled = business_failure(failure)
            failed = p.StepFailed(reason=cancelled.reason, detail=cancelled.detail)
            await self.publish(EventType.SHIPMENT_FAILED, failed, confirmed)
            return
        self._parcel.tracking_number = booking.tracking_number
        report_to = CarrierSignals(workflow_id=workflow.info().workflow_id)
        await shipping.dispatch_shipment(order_id, report_to, request.simulate_carrier)
        await self.publish(
            EventType.SHIPMENT_DISPATCHED,
            p.ShipmentDispatched(
                customer_email=request.customer_email,
                tracking_number=booking.tracking_number,
                carrier=booking.carrier,
            ),
            confirmed,
        )

        async def picked_up(report: CarrierReport) -> None:
            await self.publish(
                EventType.PARCEL_PICKED_UP, p.ParcelPickedUp(at=report.at), confirmed
            )

        if await self._parcel.follow(request.delivery_deadline, picked_up):
            await self._delivered(late=False, caused_by=confirmed)
            return
        late = p.DeliveryLate(
            customer_email=request.customer_email,
            tracking_number=booking.tracking_number,
            deadline=request.delivery_deadline,
        )
        await self.publish(EventType.DELIVERY_LATE, late, confirmed)
        if await self._parcel.follow(request.lost_after - request.delivery_deadline, picked_up):
            await self._delivered(late=True, caused_by=confirmed)
            return
        await shipping.mark_parcel_lost(order_id)
        lost = p.ParcelLost(detail=f"no delivery within {request.lost_after}")
        await self.publish(EventType.PARCEL_LOST, lost, confirmed)

    async def _delivered(self, late: bool, caused_by: Received) -> None:
        delivered = p.ParcelDelivered(at=self._parcel.delivery.at, late=late)
        await self.publish(EventType.PARCEL_DELIVERED, delivered, caused_by)
