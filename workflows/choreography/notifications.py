"""Notifications' part: a message at each milestone the events announce. Every event it reacts
to names the recipient, so it never waits for another to learn whom to write to."""

from __future__ import annotations

from temporalio import workflow

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.messages.notifications import NotificationKind
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, TooEarlyError, reacts_to
from workflows.choreography.versions import CONFIRMS_FINAL_NOTICE
from workflows.services import notifications


@workflow.defn(name=Party.NOTIFICATIONS.workflow_type)
class NotificationsParticipant(Participant):
    party = Party.NOTIFICATIONS

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._final_sent = False
        self._email: str | None = None
        """The customer's, from the order's acceptance: the later notices carry none."""

    @workflow.run
    async def run(self, start: ParticipantStart) -> ParticipantView:
        await self.serve()
        return self.participant()

    def done(self) -> bool:
        return self._final_sent

    @reacts_to(EventType.ORDER_ACCEPTED)
    async def _on_order_accepted(
        self, payload: payloads.CustomerContact, received: Received
    ) -> None:
        order = payload.order
        self._email = order.customer.email
        self.tag_customer(order.customer.id)
        kind = NotificationKind.ORDER_RECEIVED
        await notifications.notify(
            self._order_id, order.customer.email, kind, notifications.ORDER_RECEIVED_BODY
        )

    @reacts_to(EventType.APPROVAL_REQUESTED)
    async def _on_approval_requested(
        self, payload: payloads.ApprovalRequested, received: Received
    ) -> None:
        order_id = self._order_id
        body = notifications.approval_requested_body(order_id, payload.total_cents, payload.window)
        await notifications.notify(
            order_id, payload.customer_email, NotificationKind.APPROVAL_REQUESTED, body
        )

    @reacts_to(EventType.SHIPMENT_DISPATCHED)
    async def _on_shipment_dispatched(
        self, payload: payloads.ShipmentDispatched, received: Received
    ) -> None:
        to = payload.customer_email or self._email  # carried: a dispatch from before the cut
        if to is None:
            raise TooEarlyError
        body = notifications.dispatched_body(payload.tracking_number)
        await notifications.notify(self._order_id, to, NotificationKind.ORDER_DISPATCHED, body)

    @reacts_to(EventType.DELIVERY_LATE)
    async def _on_delivery_late(self, payload: payloads.DeliveryLate, received: Received) -> None:
        await notifications.notify_delivery_late(
            self._order_id, payload.tracking_number, payload.deadline
        )

    @reacts_to(EventType.STOCK_RELEASE_FAILED, EventType.PAYMENT_VOID_FAILED)
    async def _on_undo_failed(self, payload: payloads.UndoFailed, received: Received) -> None:
        await notifications.notify_compensation_stuck(
            self._order_id, f"{payload.compensation.what}: {payload.why}"
        )

    @reacts_to(EventType.ORDER_ENDED)
    async def _on_order_ended(self, payload: payloads.OrderEnded, received: Received) -> None:
        kind, body = notifications.final_notice(payload.outcome)
        await notifications.notify(self._order_id, payload.customer_email, kind, body)
        if self.lean() or workflow.patched(CONFIRMS_FINAL_NOTICE):
            notified = payloads.CustomerNotified(kind=kind.value)
            await self.publish(EventType.CUSTOMER_NOTIFIED, notified, received)
        self._final_sent = True
