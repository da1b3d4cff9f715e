"""Parked compensations and their resolution by a person: what the stores record of them.

A compensation that cannot succeed (the gateway refuses the void, a service stays down past the
order's `compensation_budget`) is parked, not retried forever in silence: the order's other
compensations still run, then the order waits in `needs_attention` for a person. The orders
store records that the order is parked (so the audit reports it as waiting for a person, not as
lost); the service whose compensation it was records a resolution by hand (so the audit reports
the hold as resolved by hand, not as a leak).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.base import Model
from domain.commands import Actor, Remark
from domain.order import OrderId
from domain.services import Service


class Compensation(StrEnum):
    """The compensations an order may need before the pivot, each its service's."""

    RELEASE_STOCK = "release_stock"
    VOID_PAYMENT = "void_payment"
    CANCEL_SHIPMENT = "cancel_shipment"
    """The shipment's own, before its booking is confirmed (retried until done: never parked)."""

    @property
    def service(self) -> Service:
        return _SERVICE[self]

    @property
    def what(self) -> str:
        """How the timeline and the saga name it."""
        return _WHAT[self]


_SERVICE = {
    Compensation.RELEASE_STOCK: Service.INVENTORY,
    Compensation.VOID_PAYMENT: Service.PAYMENTS,
    Compensation.CANCEL_SHIPMENT: Service.SHIPPING,
}
_WHAT = {
    Compensation.RELEASE_STOCK: "release the stock",
    Compensation.VOID_PAYMENT: "void the payment",
    Compensation.CANCEL_SHIPMENT: "cancel the shipment",
}


class ParkedCompensation(Model):
    compensation: Compensation
    why: Remark
    """The failure's message: the gateway's refusal, or the last error past the budget."""
    since: datetime


class RecordOrderParked(Model):
    """orders: the order waits for a person (`parked` empty: no longer; it is about to end)."""

    order_id: OrderId
    parked: list[ParkedCompensation]
    at: datetime


class RecordResolvedByHand(Model):
    """inventory or payments: a person undid the compensation by hand, and says how."""

    order_id: OrderId
    compensation: Compensation
    resolved_by: Actor
    note: Remark
    at: datetime
