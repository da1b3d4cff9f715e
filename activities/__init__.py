"""Each service's activities, bound to that service's store.

Activity names are the method names: they are the contract with the workflows of every style,
which call them by reference (`workflows.services.call`). A worker registers every activity of
its service's class (`activity_methods`), so a new one needs no list to be added to; which class
and store are a service's is declared once, in `workers.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from activities.inventory import InventoryActivities
from activities.notifications import NotificationsActivities
from activities.orders import OrdersActivities
from activities.payments import PaymentsActivities
from activities.shipping import ShippingActivities
from domain.services import Service

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
    dispatch wrote the carrier's reports (the simulated carrier's wake-up).

    As its declaration in `workers.registry` says; imported here, when called, because the
    registry imports the workflows, which import this package's modules: at the top, importing
    any activity would first import every workflow (and, from a workflow, find this package
    half-initialised)."""
    from workers.registry import SERVICES

    return SERVICES[service].registered_activities(data_dir, on_outbox_written=on_outbox_written)
