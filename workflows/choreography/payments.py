"""Payments' part: authorize once stock is reserved, void when the order is cancelled, capture at
dispatch, refund a lost parcel. A cancellation that comes first closes the payment, so a late
reservation charges nothing."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.events import payloads as p
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, TooEarlyError, step_failed
from workflows.services import payments


@workflow.defn(name="PaymentsParticipant")
class PaymentsParticipant(Participant):
    party = Party.PAYMENTS

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._cancelled = False
        self._authorized = False
        self._captured = False
        self._delivered = False
        self._refunded = False

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._cancelled or self._refunded or (self._captured and self._delivered)

    async def handle(self, received: Received) -> str:
        match received.payload:
            case p.StockReserved(order=order):
                self.tag_customer(order.customer.id)
                try:
                    authorization = await payments.authorize_payment(order)
                except ActivityError as failure:
                    failed = step_failed(failure)
                    await self.publish(EventType.PAYMENT_FAILED, failed, received)
                    return f"handled: {failed.reason.value}"
                authorized = p.PaymentAuthorized(
                    authorization_id=authorization.authorization_id,
                    amount_cents=authorization.amount_cents,
                )
                self._authorized = True
                await self.publish(EventType.PAYMENT_AUTHORIZED, authorized, received)
            case p.OrderCancelled():
                voided = await self._reverse(why="compensation: void payment")
                self._cancelled = True
                await self.publish(EventType.PAYMENT_VOIDED, voided, received)
            case p.ShipmentDispatched():
                if not self._authorized:
                    raise TooEarlyError
                capture = await payments.capture_payment(self._order_id)
                self._captured = True
                captured = p.PaymentCaptured(amount_cents=capture.amount_cents)
                await self.publish(EventType.PAYMENT_CAPTURED, captured, received)
            case p.ParcelDelivered():
                self._delivered = True
            case p.ParcelLost():
                if not self._captured:
                    raise TooEarlyError
                refunded = await self._reverse(why="refund: the parcel was lost")
                self._refunded = True
                await self.publish(EventType.PAYMENT_REFUNDED, refunded, received)
        return "handled"

    async def _reverse(self, why: str) -> p.PaymentReversed:
        """Void the authorization or refund the capture, as the ledger says."""
        reversal = await payments.reverse_payment(self._order_id, why=why)
        return p.PaymentReversed(action=reversal.action, amount_cents=reversal.amount_cents)
