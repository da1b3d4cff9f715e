"""Each service's activities, bound to that service's store.

Activity names are the method names: they are the contract with the workflows of every style,
which call them by reference (`workflows.services.call`). A worker registers every activity of
its service's class (`activity_methods`), so a new one needs no list to be added to.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from activities.common import activity_methods
from activities.events import publish_event
from activities.inventory import InventoryActivities
from activities.notifications import NotificationsActivities
from activities.orders import OrdersActivities
from activities.payments import PaymentsActivities
from activities.shipping import ShippingActivities
from domain.services import Service
from infra.token_seal import unsealing_key
from stores import store_location
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from stores.shipping import ShippingStore

__all__ = [
    "InventoryActivities",
    "NotificationsActivities",
    "OrdersActivities",
    "PaymentsActivities",
    "ShippingActivities",
    "build_activities",
]


def build_activities(
    service: Service, data_dir: Path, *, on_outbox_written: Callable[[], None] | None = None
) -> list[Callable[..., object]]:
    """The activities a worker for `service` registers, over the store in `data_dir`, and the
    one every service needs to publish its events. `on_outbox_written`: shipping's, told when a
    dispatch wrote the carrier's reports (the simulated carrier's wake-up)."""
    return [*_service_activities(service, data_dir, on_outbox_written), publish_event]


def _service_activities(
    service: Service, data_dir: Path, on_outbox_written: Callable[[], None] | None
) -> list[Callable[..., object]]:
    path = store_location(data_dir, service)
    match service:
        case Service.ORDERS:
            return activity_methods(OrdersActivities(OrdersStore(path)))
        case Service.INVENTORY:
            return activity_methods(InventoryActivities(InventoryStore(path)))
        case Service.PAYMENTS:
            return activity_methods(
                PaymentsActivities(PaymentsStore(path), unsealing_key(data_dir))
            )
        case Service.SHIPPING:
            return activity_methods(ShippingActivities(ShippingStore(path), on_outbox_written))
        case Service.NOTIFICATIONS:
            return activity_methods(NotificationsActivities(NotificationsStore(path)))
