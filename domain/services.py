"""The services, their task queues and the deterministic workflow ids derived from an order id.

Any tool can find the workflows of an order from its id alone, without a lookup table.
"""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    ORDERS = "orders"
    INVENTORY = "inventory"
    PAYMENTS = "payments"
    SHIPPING = "shipping"
    NOTIFICATIONS = "notifications"

    @property
    def task_queue(self) -> str:
        """Each service polls its own task queue, named after it."""
        return self.value


class Style(StrEnum):
    ORCHESTRATED = "orchestrated"
    CHOREOGRAPHED = "choreographed"
    HYBRID = "hybrid"


ORCHESTRATOR_WORKFLOW_TYPES: dict[Style, str] = {
    Style.ORCHESTRATED: "OrderWorkflow",
    Style.HYBRID: "HybridOrderWorkflow",
}
"""The workflow type of the orchestrator that owns an order's lifecycle, in the styles that have
one (the choreography's is the orders participant's: `Party.ORDERS.workflow_type`)."""

SHIPMENT_WORKFLOW_TYPE = "ShipmentWorkflow"
"""The orchestrated style's child workflow that follows the parcel."""


def order_workflow_id(order_id: str) -> str:
    """The orchestrator of an order."""
    return f"order-{order_id}"


def shipment_workflow_id(order_id: str) -> str:
    """The orchestrated style's child workflow that follows the parcel."""
    return f"shipment-{order_id}"


def participant_workflow_id(party: str, order_id: str) -> str:
    """A participant's workflow: one per party (a service, or one of the hybrid's warehouse
    parties) and order, `<party>-<order id>`."""
    return f"{party}-{order_id}"
