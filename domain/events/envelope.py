"""The envelope around every event, and how a receiver reads one it cannot trust yet."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from domain.base import Model
from domain.order import OrderId
from domain.services import Service, order_workflow_id, participant_workflow_id

SIGNAL_EVENT = "event"
"""The one signal by which every event reaches a participant."""

FIRST_SCHEMA_VERSION = 1
"""The schema version of an envelope that says none (every event before versions were kept)."""


class Party(StrEnum):
    """Who may publish or react: the five services; the warehouse's participants of the hybrid
    style (picking, packing, carrier hand-off, hosted by shipping); and two that start flows
    from outside the choreography: the storefront, where orders come in, and the hybrid style's
    orchestrator, which hands fulfilment to the warehouse."""

    STOREFRONT = "storefront"
    ORCHESTRATOR = "orchestrator"
    ORDERS = Service.ORDERS.value
    INVENTORY = Service.INVENTORY.value
    PAYMENTS = Service.PAYMENTS.value
    SHIPPING = Service.SHIPPING.value
    NOTIFICATIONS = Service.NOTIFICATIONS.value
    PICKING = "picking"
    PACKING = "packing"
    HANDOFF = "handoff"

    @property
    def starts_flows(self) -> bool:
        """Publishes from outside the choreography: nothing in the contract makes it publish."""
        return self in (Party.STOREFRONT, Party.ORCHESTRATOR)

    @property
    def is_warehouse(self) -> bool:
        return self in (Party.PICKING, Party.PACKING, Party.HANDOFF)

    @property
    def service(self) -> Service | None:
        """The service whose worker hosts this party (the storefront is no service)."""
        if self is Party.STOREFRONT:
            return None
        if self is Party.ORCHESTRATOR:
            return Service.ORDERS
        if self.is_warehouse:
            return Service.SHIPPING
        return Service(self.value)

    @property
    def lifecycle_owner(self) -> Party:
        """The party whose workflow owns the order's lifecycle for this one: the hybrid's
        orchestrator for the warehouse, the order view for the choreography's services."""
        return Party.ORCHESTRATOR if self.is_warehouse else Party.ORDERS

    def workflow_id(self, order_id: str) -> str:
        """`<party>-<order id>` for a participant; the orchestrator is `order-<order id>`."""
        if self is Party.ORCHESTRATOR:
            return order_workflow_id(order_id)
        return participant_workflow_id(self.value, order_id)

    @property
    def workflow_type(self) -> str:
        """A participant's workflow type (`_PARTICIPANT_TYPES`); the storefront and the
        orchestrator run none."""
        try:
            return _PARTICIPANT_TYPES[self]
        except KeyError:
            raise ValueError(f"{self.value} runs no participant workflow") from None

    @classmethod
    def of_workflow_type(cls, workflow_type: str) -> Party | None:
        """The party whose participant has this workflow type; None for any other workflow."""
        return _PARTIES_BY_TYPE.get(workflow_type)


_PARTICIPANT_TYPES: dict[Party, str] = {
    Party.ORDERS: "OrdersParticipant",
    Party.INVENTORY: "InventoryParticipant",
    Party.PAYMENTS: "PaymentsParticipant",
    Party.SHIPPING: "ShippingParticipant",
    Party.NOTIFICATIONS: "NotificationsParticipant",
    Party.PICKING: "PickingParticipant",
    Party.PACKING: "PackingParticipant",
    Party.HANDOFF: "HandoffParticipant",
}
"""Each participant's workflow type, declared once: its class's `workflow.defn` names it so, the
event bus starts it by it, the trace and the patches' table find the party from it. Part of the
contract with running orders: a renamed type strands every participant in flight."""
_PARTIES_BY_TYPE = {workflow_type: party for party, workflow_type in _PARTICIPANT_TYPES.items()}


ENVELOPE_TEXT_MAX = 64
"""The longest `event_id` and `type` an envelope may hold."""


class EventEnvelope(Model):
    """What travels as the `event` signal. `type` and `payload` stay loose here: a receiver checks
    them against the contract and refuses, with a recorded reason, what does not fit."""

    event_id: str = Field(min_length=1, max_length=ENVELOPE_TEXT_MAX)
    type: str = Field(min_length=1, max_length=ENVELOPE_TEXT_MAX)
    order_id: OrderId
    causation_id: str | None = None
    """The event whose handling published this one; None for an order's first event."""
    occurred_at: datetime
    producer: Party
    schema_version: int = Field(default=FIRST_SCHEMA_VERSION, ge=1, le=1_000_000)
    """The version of the payload's schema (`EventSpec.schema_version`); a receiver upgrades an
    older one it still reads, and refuses the others."""
    payload: dict[str, Any]
