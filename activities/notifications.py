"""notifications' activity: put a message in the outbox, once per order and kind."""

from __future__ import annotations

from temporalio import activity

from activities.common import service_activities, store_activity, store_failures
from domain.messages.notifications import NotificationResult, SendNotification
from domain.services import Service
from stores.notifications import NotificationsStore


@service_activities(Service.NOTIFICATIONS)
class NotificationsActivities:
    def __init__(self, store: NotificationsStore) -> None:
        self._store = store

    @store_activity
    def send_notification(self, request: SendNotification) -> NotificationResult:
        with store_failures(request.order_id):
            sent = self._store.send(request)
        # The recipient (an e-mail address) stays out of the log.
        activity.logger.info(
            "order %s: %s message %s%s",
            request.order_id,
            request.kind.value,
            sent.message_id,
            " (already sent)" if sent.duplicate else "",
        )
        return NotificationResult(
            order_id=request.order_id,
            kind=request.kind,
            message_id=sent.message_id,
            duplicate=sent.duplicate,
        )
