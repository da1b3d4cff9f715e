from __future__ import annotations

from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationsActivities
from domain.messages.notifications import NotificationKind, SendNotification
from stores.notifications import NotificationsStore


def test_a_message_sent_twice_is_sent_once(tmp_path: Path) -> None:
    store = NotificationsStore(tmp_path / "notifications.sqlite3")
    notifications = NotificationsActivities(store)
    message = SendNotification(
        order_id="order-1",
        kind=NotificationKind.ORDER_CANCELLED,
        recipient="ada@example.com",
        subject="Your order was cancelled",
        body="We are sorry.",
    )
    env = ActivityEnvironment()
    first = env.run(notifications.send_notification, message)
    second = env.run(notifications.send_notification, message)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.message_id == second.message_id
    assert first.kind is NotificationKind.ORDER_CANCELLED
    assert len(store.messages("order-1")) == 1
