"""The envelope around every event, and how a receiver reads one it cannot trust yet."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from domain.base import Model
from domain.order import OrderId
from domain.services import Service

SIGNAL_EVENT = "event"
"""The one signal by which every event reaches a participant."""

SCHEMA_VERSION = 1


class Party(StrEnum):
    """Who may publish or react: the five services, and the storefront where orders come in."""

    STOREFRONT = "storefront"
    ORDERS = Service.ORDERS.value
    INVENTORY = Service.INVENTORY.value
    PAYMENTS = Service.PAYMENTS.value
    SHIPPING = Service.SHIPPING.value
    NOTIFICATIONS = Service.NOTIFICATIONS.value

    @property
    def service(self) -> Service | None:
        """The service that hosts this party's participant (the storefront has none)."""
        return None if self is Party.STOREFRONT else Service(self.value)


class EventEnvelope(Model):
    """What travels as the `event` signal. `type` and `payload` stay loose here: a receiver checks
    them against the contract and refuses, with a recorded reason, what does not fit."""

    event_id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64)
    order_id: OrderId
    causation_id: str | None = None
    """The event whose handling published this one; None for an order's first event."""
    occurred_at: datetime
    producer: Party
    schema_version: int = SCHEMA_VERSION
    payload: dict[str, Any]
