"""Shipping's part: once the order is confirmed, book a carrier, dispatch, follow the parcel under
the delivery deadline and announce each stage. A late delivery is announced, not undone."""

from __future__ import annotations

from temporalio import workflow

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.shipment import ShipmentStage
from workflows.choreography.carrier import ParcelShipper
from workflows.choreography.inbox import Received
from workflows.choreography.participant import reacts_to


@workflow.defn(name=Party.SHIPPING.workflow_type)
class ShippingParticipant(ParcelShipper):
    party = Party.SHIPPING
    stage_events = {
        None: EventType.SHIPMENT_FAILED,
        ShipmentStage.DISPATCHED: EventType.SHIPMENT_DISPATCHED,
        ShipmentStage.PICKED_UP: EventType.PARCEL_PICKED_UP,
        ShipmentStage.LATE: EventType.DELIVERY_LATE,
        ShipmentStage.DELIVERED: EventType.PARCEL_DELIVERED,
        ShipmentStage.LOST: EventType.PARCEL_LOST,
    }

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    @reacts_to(EventType.ORDER_CONFIRMED)
    async def _on_order_confirmed(
        self, payload: payloads.ShipmentOrder, received: Received
    ) -> None:
        self.tag_customer(payload.customer_id)
        await self.ship(payload.shipment, received)
        self._finished = True
