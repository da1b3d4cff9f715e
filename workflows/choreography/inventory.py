"""Inventory's part: reserve when the order is accepted, release when it is cancelled, consume
when the parcel is dispatched. Whatever order the events come in, stock is held at most once and
released or consumed exactly once."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads as p
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, TooEarlyError, step_failed
from workflows.services import inventory


@workflow.defn(name="InventoryParticipant")
class InventoryParticipant(Participant):
    party = Party.INVENTORY

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._reserved = False
        self._closed_by: EventType | None = None

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._closed_by is not None

    async def handle(self, received: Received) -> str:
        match received.payload:
            case p.OrderPayload(order=order) if received.type is EventType.ORDER_ACCEPTED:
                self.tag_customer(order.customer.id)
                try:
                    reservation = await inventory.reserve_stock(order)
                except ActivityError as failure:
                    failed = step_failed(failure)
                    await self.publish(EventType.STOCK_RESERVATION_FAILED, failed, received)
                    return f"handled: {failed.reason.value}"
                self._reserved = True
                units = sum(line.quantity for line in reservation.lines)
                reserved = p.StockReserved(order=order, units=units)
                await self.publish(EventType.STOCK_RESERVED, reserved, received)
            case p.OrderCancelled():
                released = await inventory.release_stock(self._order_id)
                self._closed_by = EventType.STOCK_RELEASED
                units = released.released_units
                await self.publish(EventType.STOCK_RELEASED, p.StockReleased(units=units), received)
            case p.ShipmentDispatched():
                if not self._reserved:
                    raise TooEarlyError
                consumed = await inventory.consume_stock(self._order_id)
                self._closed_by = EventType.STOCK_CONSUMED
                units = consumed.consumed_units
                await self.publish(EventType.STOCK_CONSUMED, p.StockConsumed(units=units), received)
        return "handled"
