"""Messages at each milestone. Their wording lives here, once, so every style sends the same."""

from __future__ import annotations

from domain.messages.notifications import (
    OPERATIONS_RECIPIENT,
    NotificationKind,
    NotificationResult,
    SendNotification,
)
from domain.services import Service
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call

_SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.ORDER_RECEIVED: "We have received your order {order_id}",
    NotificationKind.APPROVAL_REQUESTED: "Order {order_id} needs approval",
    NotificationKind.ORDER_DISPATCHED: "Your order {order_id} is on its way",
    NotificationKind.DELIVERY_LATE: "Order {order_id} is late: delivery deadline passed",
    NotificationKind.ORDER_DELIVERED: "Your order {order_id} has been delivered",
    NotificationKind.ORDER_CANCELLED: "Your order {order_id} has been cancelled",
}

_TO_OPERATIONS = frozenset({NotificationKind.APPROVAL_REQUESTED, NotificationKind.DELIVERY_LATE})


async def notify(order_id: str, customer_email: str, kind: NotificationKind, body: str) -> None:
    """Send one message of this kind for this order (the outbox drops a second one)."""
    recipient = OPERATIONS_RECIPIENT if kind in _TO_OPERATIONS else customer_email
    message = SendNotification(
        order_id=order_id,
        kind=kind,
        recipient=recipient,
        subject=_SUBJECTS[kind].format(order_id=order_id),
        body=body,
    )
    await call(
        Service.NOTIFICATIONS,
        "send_notification",
        message,
        NotificationResult,
        policy=UNTIL_DONE,
        summary=f"notify: {kind.value}",
    )
