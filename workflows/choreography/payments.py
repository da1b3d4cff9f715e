"""Payments' part: authorize once stock is reserved, void when the order is cancelled, capture at
dispatch, refund a lost parcel. A cancellation that comes first closes the payment, so a late
reservation charges nothing."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.resolution import Compensation
from domain.order import OrderTimeouts
from domain.order_parts import PaymentOrder
from workflows.choreography.inbox import Received
from workflows.choreography.participant import (
    TooEarlyError,
    reacts_to,
    step_failed,
)
from workflows.choreography.undo import CompensatingParticipant, ParkableUndo
from workflows.services import payments


@workflow.defn(name=Party.PAYMENTS.workflow_type)
class PaymentsParticipant(CompensatingParticipant):
    party = Party.PAYMENTS

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._cancelled = False
        self._authorized = False
        self._captured = False
        self._delivered = False
        self._refunded = False
        self._undo = ParkableUndo(
            self._order_id,
            Compensation.VOID_PAYMENT,
            EventType.PAYMENT_VOIDED,
            EventType.PAYMENT_VOID_FAILED,
        )
        self._budget = OrderTimeouts().compensation_budget
        """The order's own once its terms say (an early cancellation: the default)."""
        self._terms: PaymentOrder | None = None
        """What the order's acceptance hands payments: the total and the sealed token."""

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._cancelled or self._refunded or (self._captured and self._delivered)

    @reacts_to(EventType.ORDER_ACCEPTED)
    async def _on_order_accepted(self, payload: payloads.PaymentTerms, received: Received) -> str:
        order = payload.order
        self._terms = order
        self.tag_customer(order.customer.id)
        self._budget = order.timeouts.compensation_budget
        return "kept the payment terms until the stock is held"

    @reacts_to(EventType.STOCK_RESERVED)
    async def _on_stock_reserved(
        self, payload: payloads.StockHeld, received: Received
    ) -> str | None:
        terms = self._terms or payload.order  # carried: a reservation from before the cut
        if terms is None:
            raise TooEarlyError
        self.tag_customer(terms.customer.id)
        self._budget = terms.timeouts.compensation_budget
        try:
            authorization = await payments.authorize_payment(terms)
        except ActivityError as failure:
            failed = step_failed(failure)
            await self.publish(EventType.PAYMENT_FAILED, failed, received)
            return f"handled: {failed.reason.value}"
        authorized = payloads.PaymentAuthorized(
            authorization_id=authorization.authorization_id,
            amount_cents=authorization.amount_cents,
        )
        self._authorized = True
        await self.publish(EventType.PAYMENT_AUTHORIZED, authorized, received)
        return None

    @reacts_to(EventType.SHIPMENT_DISPATCHED)
    async def _on_shipment_dispatched(
        self, payload: payloads.Dispatched, received: Received
    ) -> None:
        if not self._authorized:
            raise TooEarlyError
        capture = await payments.capture_payment(self._order_id)
        self._captured = True
        captured = payloads.PaymentCaptured(amount_cents=capture.amount_cents)
        await self.publish(EventType.PAYMENT_CAPTURED, captured, received)

    @reacts_to(EventType.PARCEL_DELIVERED)
    async def _on_parcel_delivered(
        self, payload: payloads.ParcelDelivered, received: Received
    ) -> None:
        self._delivered = True

    @reacts_to(EventType.PARCEL_LOST)
    async def _on_parcel_lost(self, payload: payloads.ParcelLost, received: Received) -> None:
        if not self._captured:
            raise TooEarlyError
        refunded = await self._reverse(why="refund: the parcel was lost")
        self._refunded = True
        await self.publish(EventType.PAYMENT_REFUNDED, refunded, received)

    async def _compensation(self) -> payloads.PaymentReversed:
        """Void the payment, within the order's budget; parked if it fails."""
        return await self._reverse(why="compensation: void payment", budget=self._budget)

    async def _undone_by_hand(self) -> payloads.PaymentReversed:
        return payloads.PaymentReversed(action="voided by hand", amount_cents=0)

    def _note_undone(self) -> None:
        self._cancelled = True

    async def _reverse(self, why: str, budget: timedelta | None = None) -> payloads.PaymentReversed:
        """Void the authorization or refund the capture, as the ledger says."""
        reversal = await payments.reverse_payment(self._order_id, why=why, budget=budget)
        return payloads.PaymentReversed(action=reversal.action, amount_cents=reversal.amount_cents)
