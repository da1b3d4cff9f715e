from __future__ import annotations

from domain.messages.notifications import NotificationKind, SendNotification
from stores.notifications import NotificationsStore


def message(kind: NotificationKind, body: str = "Your order is on its way.") -> SendNotification:
    return SendNotification(
        order_id="order-1",
        kind=kind,
        recipient="ada@example.com",
        subject=f"Order order-1: {kind.value}",
        body=body,
    )


def test_one_message_per_order_and_kind(notifications: NotificationsStore) -> None:
    first = notifications.send(message(NotificationKind.ORDER_DISPATCHED))
    again = notifications.send(message(NotificationKind.ORDER_DISPATCHED, body="resent"))
    assert not first.duplicate
    assert again.duplicate
    assert again.message_id == first.message_id
    (kept,) = notifications.messages("order-1")
    assert kept.body == "Your order is on its way."


def test_each_kind_is_its_own_message(notifications: NotificationsStore) -> None:
    received = notifications.send(message(NotificationKind.ORDER_RECEIVED))
    delivered = notifications.send(message(NotificationKind.ORDER_DELIVERED))
    assert received.message_id != delivered.message_id
    assert [m.kind for m in notifications.messages("order-1")] == [
        NotificationKind.ORDER_RECEIVED,
        NotificationKind.ORDER_DELIVERED,
    ]
    assert notifications.messages("order-2") == []
