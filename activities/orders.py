"""orders' activities: keep the register of orders placed, which wait for a person about a
parked compensation, and how they ended.

Every style records an order's end here, with its outcome and reason, so this is where the
`orders_completed` and `orders_cancelled` counters are counted: no workflow code is involved."""

from __future__ import annotations

from temporalio import activity

from activities.common import service_activities, store_activity, store_failures
from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import RecordOrderParked
from domain.services import Service
from infra.metrics import count_order_ended
from stores.orders import OrdersStore


@service_activities(Service.ORDERS)
class OrdersActivities:
    def __init__(self, store: OrdersStore) -> None:
        self._store = store

    @store_activity
    def record_order_placed(self, request: RecordOrderPlaced) -> None:
        with store_failures(request.order_id):
            self._store.record_placed(request)
        activity.logger.info("order %s: placed (%s)", request.order_id, request.style.value)

    @store_activity
    def record_order_parked(self, request: RecordOrderParked) -> None:
        """What the order now waits for a person about (nothing: it waits no more), so that the
        audit tells a parked order from a lost one."""
        with store_failures(request.order_id):
            self._store.record_parked(request)
        parked = ", ".join(p.compensation.what for p in request.parked) or "nothing"
        activity.logger.info("order %s: parked for a person: %s", request.order_id, parked)

    @store_activity
    def record_order_ended(self, request: RecordOrderEnded) -> None:
        outcome = request.outcome
        with store_failures(outcome.order_id):
            self._store.record_ended(request)
        count_order_ended(
            request.style.value, outcome.status, outcome.reason.value if outcome.reason else None
        )
        reason = f" ({outcome.reason.value})" if outcome.reason else ""
        activity.logger.info("order %s: ended %s%s", outcome.order_id, outcome.status, reason)
