"""The warehouse of the hybrid style: picking, packing and the carrier hand-off, each a
participant (`<party>-<order id>` on the shipping task queue) that reacts to the event before it.
Nobody drives them: the orchestrator only asks for the fulfilment and hears how it ends."""

from __future__ import annotations

from temporalio import workflow

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.shipment import ShipmentStage
from workflows.choreography.carrier import ParcelShipper
from workflows.choreography.inbox import Received
from workflows.choreography.participant import (
    Participant,
    TooEarlyError,
    published_whole,
    reacts_to,
)


@workflow.defn(name=Party.PICKING.workflow_type)
class PickingParticipant(Participant):
    """Takes every line of the order off the shelves (the stock was reserved and is consumed by
    the orchestrator at dispatch: picking moves goods, it does not count them)."""

    party = Party.PICKING

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._picked = False

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._picked

    @reacts_to(EventType.FULFILMENT_REQUESTED)
    async def _on_fulfilment_requested(
        self, fulfilment: payloads.WarehouseFulfilment, received: Received
    ) -> None:
        self.tag_customer(fulfilment.customer_id)
        picked = payloads.ItemsPicked(
            lines=fulfilment.shipment.parcels,
            customer_id=fulfilment.customer_id,
        )
        await self.publish(EventType.ITEMS_PICKED, picked, received)
        self._picked = True


@workflow.defn(name=Party.PACKING.workflow_type)
class PackingParticipant(Participant):
    """Packs what was picked into the parcel the carrier takes."""

    party = Party.PACKING

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._packed = False

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._packed

    @reacts_to(EventType.ITEMS_PICKED)
    async def _on_items_picked(self, picked: payloads.PickedForPacking, received: Received) -> None:
        carried = picked.fulfilment  # the whole request, from before the cut
        customer_id = picked.customer_id or (carried.customer_id if carried else None)
        if customer_id is not None:
            self.tag_customer(customer_id)
        whole = published_whole(received, payloads.ItemsPicked)  # picked before the upgrade
        packed = payloads.ParcelPacked(
            parcels=picked.lines,
            customer_id=customer_id,
            fulfilment=whole.fulfilment if whole else None,
        )
        await self.publish(EventType.PARCEL_PACKED, packed, received)
        self._packed = True


@workflow.defn(name=Party.HANDOFF.workflow_type)
class HandoffParticipant(ParcelShipper):
    """Hands the packed parcel to a carrier and follows it; a late delivery is escalated to
    operations here, as the orchestrated shipment does, and only then announced."""

    party = Party.HANDOFF
    escalates_late_delivery = True
    stage_events = {
        None: EventType.HANDOFF_FAILED,
        ShipmentStage.DISPATCHED: EventType.PARCEL_HANDED_OVER,
        ShipmentStage.PICKED_UP: EventType.SHIPMENT_IN_TRANSIT,
        ShipmentStage.LATE: EventType.SHIPMENT_LATE,
        ShipmentStage.DELIVERED: EventType.SHIPMENT_DELIVERED,
        ShipmentStage.LOST: EventType.SHIPMENT_LOST,
    }

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._fulfilment: payloads.CarrierFulfilment | None = None
        """Where the parcel goes, from the orchestrator's request: packing never sees it."""

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    @reacts_to(EventType.FULFILMENT_REQUESTED)
    async def _on_fulfilment_requested(
        self, fulfilment: payloads.CarrierFulfilment, received: Received
    ) -> str:
        self._fulfilment = fulfilment
        self.tag_customer(fulfilment.customer_id)
        return "kept where the parcel goes until it is packed"

    @reacts_to(EventType.PARCEL_PACKED)
    async def _on_parcel_packed(
        self, packed: payloads.PackedForHandoff, received: Received
    ) -> None:
        fulfilment = self._fulfilment or packed.fulfilment  # carried: before the cut
        if fulfilment is None:
            raise TooEarlyError
        self.tag_customer(fulfilment.customer_id)
        await self.ship(fulfilment.shipment, received)
        self._finished = True
