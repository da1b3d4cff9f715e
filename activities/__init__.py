"""Each service's activities, bound to that service's store.

Activity names are the method names: they are the contract with the workflows of every style,
which call them by reference (`workflows.services.call`). A worker registers every activity of
its service's class (`activity_methods`), so a new one needs no list to be added to; which class
and store are a service's is declared once, in `workers.registry`.
"""

from __future__ import annotations

from activities.inventory import InventoryActivities
from activities.notifications import NotificationsActivities
from activities.orders import OrdersActivities
from activities.payments import PaymentsActivities
from activities.shipping import ShippingActivities

__all__ = [
    "InventoryActivities",
    "NotificationsActivities",
    "OrdersActivities",
    "PaymentsActivities",
    "ShippingActivities",
]
