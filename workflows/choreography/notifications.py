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
from workflows.choreography.participant import Participant, TooEarlyError
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

    async def handle(self, received: Received) -> str:
        order_id = self._order_id
        match received.payload:
            case payloads.CustomerContact(order=order):
                self._email = order.customer.email
                self.tag_customer(order.customer.id)
                kind = NotificationKind.ORDER_RECEIVED
                await notifications.notify(
                    order_id, order.customer.email, kind, notifications.ORDER_RECEIVED_BODY
                )
            case payloads.ApprovalRequested(customer_email=email, total_cents=total, window=window):
                body = notifications.approval_requested_body(order_id, total, window)
                await notifications.notify(
                    order_id, email, NotificationKind.APPROVAL_REQUESTED, body
                )
            case payloads.ShipmentDispatched(customer_email=carried, tracking_number=number):
                to = carried or self._email  # carried: a dispatch from before the cut
                if to is None:
                    raise TooEarlyError
                body = notifications.dispatched_body(number)
                await notifications.notify(order_id, to, NotificationKind.ORDER_DISPATCHED, body)
            case payloads.DeliveryLate(tracking_number=number, deadline=deadline):
                await notifications.notify_delivery_late(order_id, number, deadline)
            case payloads.UndoFailed(compensation=compensation, why=why):
                await notifications.notify_compensation_stuck(
                    order_id, f"{compensation.what}: {why}"
                )
            case payloads.OrderEnded(customer_email=email, outcome=outcome):
                kind, body = notifications.final_notice(outcome)
                await notifications.notify(order_id, email, kind, body)
                if self.lean() or workflow.patched(CONFIRMS_FINAL_NOTICE):
                    notified = payloads.CustomerNotified(kind=kind.value)
                    await self.publish(EventType.CUSTOMER_NOTIFIED, notified, received)
                self._final_sent = True
        return "handled"
