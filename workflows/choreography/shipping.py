"""Shipping's part: once the order is confirmed, book a carrier, dispatch, follow the parcel under
the delivery deadline and announce each stage. A late delivery is announced, not undone."""

from __future__ import annotations

from temporalio import workflow

from domain.events import payloads as p
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.shipment import ShipmentStage
from workflows.choreography.carrier import ParcelShipper, StageNews
from workflows.choreography.inbox import Received


@workflow.defn(name=Party.SHIPPING.workflow_type)
class ShippingParticipant(ParcelShipper):
    party = Party.SHIPPING

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    async def handle(self, received: Received) -> str:
        if not isinstance(received.payload, p.ShipmentOrder):
            return "ignored"
        self.tag_customer(received.payload.customer_id)
        await self.ship(received.payload.shipment, received)
        self._finished = True
        return "handled"

    async def announce(self, news: StageNews, cause: Received) -> None:
        match news.stage:
            case None:
                assert news.failure is not None
                await self.publish(EventType.SHIPMENT_FAILED, news.failure, cause)
            case ShipmentStage.DISPATCHED:
                dispatched = p.ShipmentDispatched(
                    tracking_number=news.tracking_number, carrier=news.carrier
                )
                await self.publish(EventType.SHIPMENT_DISPATCHED, dispatched, cause)
            case ShipmentStage.PICKED_UP:
                assert news.at is not None
                await self.publish(EventType.PARCEL_PICKED_UP, p.ParcelPickedUp(at=news.at), cause)
            case ShipmentStage.LATE:
                late = p.DeliveryLate(
                    tracking_number=news.tracking_number,
                    deadline=news.request.delivery_deadline,
                )
                await self.publish(EventType.DELIVERY_LATE, late, cause)
            case ShipmentStage.DELIVERED:
                assert news.at is not None
                delivered = p.ParcelDelivered(at=news.at, late=news.late)
                await self.publish(EventType.PARCEL_DELIVERED, delivered, cause)
            case ShipmentStage.LOST:
                lost = p.ParcelLost(detail=f"no delivery within {news.request.lost_after}")
                await self.publish(EventType.PARCEL_LOST, lost, cause)
