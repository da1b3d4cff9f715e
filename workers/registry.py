"""Which workflows each service hosts on its task queue (its activities: `activities`)."""

from __future__ import annotations

from domain.services import Service
from workflows.orchestrated.order import OrderWorkflow
from workflows.orchestrated.shipment import ShipmentWorkflow

WORKFLOWS_BY_SERVICE: dict[Service, tuple[type, ...]] = {
    Service.ORDERS: (OrderWorkflow,),
    Service.INVENTORY: (),
    Service.PAYMENTS: (),
    Service.SHIPPING: (ShipmentWorkflow,),
    Service.NOTIFICATIONS: (),
}

ALL_WORKFLOWS: tuple[type, ...] = tuple(
    workflow for workflows in WORKFLOWS_BY_SERVICE.values() for workflow in workflows
)
