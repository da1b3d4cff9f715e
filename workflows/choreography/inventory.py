"""Inventory's part: reserve when the order is accepted, release when it is cancelled, consume
when the parcel is dispatched. Whatever order the events come in, stock is held at most once and
released or consumed exactly once."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.resolution import Compensation
from domain.order import OrderTimeouts
from workflows.choreography.inbox import Received
from workflows.choreography.participant import (
    TooEarlyError,
    published_whole,
    reacts_to,
    step_failed,
)
from workflows.choreography.undo import CompensatingParticipant, ParkableUndo
from workflows.services import inventory


@workflow.defn(name=Party.INVENTORY.workflow_type)
class InventoryParticipant(CompensatingParticipant):
    party = Party.INVENTORY

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._reserved = False
        self._closed_by: EventType | None = None
        self._undo = ParkableUndo(
            self._order_id,
            Compensation.RELEASE_STOCK,
            EventType.STOCK_RELEASED,
            EventType.STOCK_RELEASE_FAILED,
        )
        self._budget = OrderTimeouts().compensation_budget
        """The order's own once its acceptance says (an early cancellation: the default)."""

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    async def _compensation(self) -> payloads.StockReleased:
        """Release the stock, within the order's budget; parked if it fails."""
        released = await inventory.release_stock(self._order_id, budget=self._budget)
        return payloads.StockReleased(units=released.released_units)

    async def _undone_by_hand(self) -> payloads.StockReleased:
        return payloads.StockReleased(units=0)

    def _note_undone(self) -> None:
        self._closed_by = EventType.STOCK_RELEASED

    def done(self) -> bool:
        return self._closed_by is not None

    @reacts_to(EventType.ORDER_ACCEPTED)
    async def _on_order_accepted(
        self, payload: payloads.LinesToReserve, received: Received
    ) -> str | None:
        order = payload.order
        self.tag_customer(order.customer.id)
        self._budget = order.timeouts.compensation_budget
        try:
            reservation = await inventory.reserve_stock(order)
        except ActivityError as failure:
            failed = step_failed(failure)
            await self.publish(EventType.STOCK_RESERVATION_FAILED, failed, received)
            return f"handled: {failed.reason.value}"
        self._reserved = True
        units = sum(line.quantity for line in reservation.lines)
        whole = published_whole(received, payloads.OrderPayload)
        reserved = payloads.StockReserved(units=units, order=whole.order if whole else None)
        await self.publish(EventType.STOCK_RESERVED, reserved, received)
        return None

    @reacts_to(EventType.SHIPMENT_DISPATCHED)
    async def _on_shipment_dispatched(
        self, payload: payloads.Dispatched, received: Received
    ) -> None:
        if not self._reserved:
            raise TooEarlyError
        consumed = await inventory.consume_stock(self._order_id)
        self._closed_by = EventType.STOCK_CONSUMED
        units = consumed.consumed_units
        await self.publish(EventType.STOCK_CONSUMED, payloads.StockConsumed(units=units), received)
