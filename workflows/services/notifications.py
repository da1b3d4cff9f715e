"""Messages at each milestone. Their wording lives here, once, so every style sends the same."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from domain.messages.notifications import (
    OPERATIONS_RECIPIENT,
    NotificationKind,
    SendNotification,
)
from domain.money import format_cents
from domain.views import OrderOutcome
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationsActivities


_SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.ORDER_RECEIVED: "We have received your order {order_id}",
    NotificationKind.APPROVAL_REQUESTED: "Order {order_id} needs approval",
    NotificationKind.ORDER_DISPATCHED: "Your order {order_id} is on its way",
    NotificationKind.DELIVERY_LATE: "Order {order_id} is late: delivery deadline passed",
    NotificationKind.ORDER_DELIVERED: "Your order {order_id} has been delivered",
    NotificationKind.ORDER_CANCELLED: "Your order {order_id} has been cancelled",
    NotificationKind.COMPENSATION_STUCK: "Order {order_id} needs attention: an undo is stuck",
}

_TO_OPERATIONS = frozenset(
    {
        NotificationKind.APPROVAL_REQUESTED,
        NotificationKind.DELIVERY_LATE,
        NotificationKind.COMPENSATION_STUCK,
    }
)

ORDER_RECEIVED_BODY = "Thank you: we are on it."


def approval_requested_body(order_id: str, total_cents: int, window: timedelta) -> str:
    return (
        f"Order {order_id} totals {format_cents(total_cents)}. "
        f"Approve or reject it within {window}."
    )


def dispatched_body(tracking_number: str | None) -> str:
    return f"Tracking number: {tracking_number}."


def delivery_late_body(order_id: str, tracking_number: str, deadline: timedelta) -> str:
    return (
        f"Parcel {tracking_number} of order {order_id} was not delivered within {deadline}. "
        "The carrier has been chased; the order stands."
    )


def compensation_stuck_body(order_id: str, stuck: str) -> str:
    return (
        f"Order {order_id} could not be fully undone: {stuck}. Retry it, or undo it by hand and "
        f"say so: python -m starters.resolve_order {order_id} (--retry | --mark-done --note ...)"
    )


def final_notice(outcome: OrderOutcome) -> tuple[NotificationKind, str]:
    """The last message of an order: delivered, or cancelled and why."""
    if outcome.status == "completed":
        return NotificationKind.ORDER_DELIVERED, "Enjoy!"
    reason = outcome.reason.value if outcome.reason else "unknown"
    return NotificationKind.ORDER_CANCELLED, f"Reason: {reason}."


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
        NotificationsActivities.send_notification,
        message,
        policy=UNTIL_DONE,
        summary=f"notify: {kind.value}",
    )


async def notify_compensation_stuck(order_id: str, stuck: str) -> None:
    """Tell operations that the order waits for a person (the customer has nothing to do)."""
    body = compensation_stuck_body(order_id, stuck)
    await notify(order_id, OPERATIONS_RECIPIENT, NotificationKind.COMPENSATION_STUCK, body)


async def notify_delivery_late(order_id: str, tracking_number: str, deadline: timedelta) -> None:
    """Escalate a parcel not delivered by its deadline to operations (not to the customer: the
    caller needs no email address for it)."""
    body = delivery_late_body(order_id, tracking_number, deadline)
    await notify(order_id, OPERATIONS_RECIPIENT, NotificationKind.DELIVERY_LATE, body)
