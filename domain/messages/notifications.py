"""notifications: messages to customers and to operations, kept in an outbox."""

from __future__ import annotations

from enum import StrEnum

from domain.base import Model
from domain.order import OrderId

OPERATIONS_RECIPIENT = "operations@shop.example"


class NotificationKind(StrEnum):
    ORDER_RECEIVED = "order_received"
    APPROVAL_REQUESTED = "approval_requested"
    ORDER_DISPATCHED = "order_dispatched"
    DELIVERY_LATE = "delivery_late"
    ORDER_DELIVERED = "order_delivered"
    ORDER_CANCELLED = "order_cancelled"
    COMPENSATION_STUCK = "compensation_stuck"
    """To operations: a compensation was parked, the order waits for a person."""


class SendNotification(Model):
    """One message per order and kind: sending the same kind twice sends it once."""

    order_id: OrderId
    kind: NotificationKind
    recipient: str
    subject: str
    body: str


class NotificationResult(Model):
    order_id: str
    kind: NotificationKind
    message_id: str
    duplicate: bool
