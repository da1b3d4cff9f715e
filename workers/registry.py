"""Which workflows each service hosts on its task queue (its activities: `activities`)."""

from __future__ import annotations

from domain.services import Service
from workflows.choreography.inventory import InventoryParticipant
from workflows.choreography.notifications import NotificationsParticipant
from workflows.choreography.orders import OrdersParticipant
from workflows.choreography.payments import PaymentsParticipant
from workflows.choreography.shipping import ShippingParticipant
from workflows.hybrid.order import HybridOrderWorkflow
from workflows.hybrid.warehouse import HandoffParticipant, PackingParticipant, PickingParticipant
from workflows.orchestrated.order import OrderWorkflow
from workflows.orchestrated.shipment import ShipmentWorkflow

WORKFLOWS_BY_SERVICE: dict[Service, tuple[type, ...]] = {
    Service.ORDERS: (OrderWorkflow, OrdersParticipant, HybridOrderWorkflow),
    Service.INVENTORY: (InventoryParticipant,),
    Service.PAYMENTS: (PaymentsParticipant,),
    Service.SHIPPING: (
        ShipmentWorkflow,
        ShippingParticipant,
        PickingParticipant,
        PackingParticipant,
        HandoffParticipant,
    ),
    Service.NOTIFICATIONS: (NotificationsParticipant,),
}

ALL_WORKFLOWS: tuple[type, ...] = tuple(
    workflow for workflows in WORKFLOWS_BY_SERVICE.values() for workflow in workflows
)
