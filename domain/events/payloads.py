"""The payload of each event type, and the cut of it each consumer sees.

An event carries what its consumers need to act on it, so a participant never has to ask another
service for anything; and each consumer is handed only its cut (the contract's `sees`), so an
event hands no personal data to a service that does not use it. A cut is a model with some of
the payload's fields (`domain/events/cuts.py`).

A field marked "until payloads were cut" is no longer published: it is declared so that the
histories of orders placed before (which carry it) still replay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.base import Model
from domain.messages.resolution import Compensation
from domain.messages.shipment import Parcel, ParcelShipment, ShipmentRequest
from domain.order import Email, Order
from domain.order_parts import ContactOrder, OrderLines, PaymentOrder
from domain.status import CancelReason
from domain.views import OrderOutcome


class OrderPayload(Model):
    """The order itself, as the storefront places it and the orders service accepts it."""

    order: Order


class LinesToReserve(Model):
    """Inventory's cut of an accepted order."""

    order: OrderLines


class PaymentTerms(Model):
    """Payments' cut of an accepted order: the total and the sealed token, kept until the stock
    is held."""

    order: PaymentOrder


class CustomerContact(Model):
    """Notifications' cut of an accepted order: whom to write to (kept for the later notices)."""

    order: ContactOrder


class StepFailed(Model):
    """A step that could not be done, and the reason the order is cancelled for."""

    reason: CancelReason
    detail: str


class StockReserved(Model):
    units: int
    order: Order | None = None
    """Until payloads were cut: how payments got the order (and its token), through inventory."""


class StockHeld(Model):
    """Payments' cut of a reservation."""

    units: int
    order: PaymentOrder | None = None


class PaymentAuthorized(Model):
    authorization_id: str
    amount_cents: int


class ApprovalRequested(Model):
    customer_email: Email
    total_cents: int
    window: timedelta


class OrderConfirmed(Model):
    """The order may ship: approved (or needing no approval) and through its handling time."""

    customer_id: str
    shipment: ShipmentRequest


class ShipmentOrder(Model):
    """Shipping's cut of a confirmed order: the parcel and its address."""

    customer_id: str
    shipment: ParcelShipment


class OrderCancelled(Model):
    reason: CancelReason
    detail: str


class UndoFailed(Model):
    """A compensation its service could not do (the gateway refused the void, or it kept failing
    past the order's budget): parked until a person answers."""

    compensation: Compensation
    why: str


class UndoResolution(Model):
    """A person's answer to a parked compensation, for the service whose it is."""

    resolved_by: str
    note: str | None = None


class StockReleased(Model):
    units: int


class PaymentReversed(Model):
    """A void of the authorization, a refund of the capture, or nothing to undo."""

    action: str
    amount_cents: int


class ShipmentDispatched(Model):
    tracking_number: str
    carrier: str
    customer_email: Email | None = None
    """Until payloads were cut; notifications keeps the address from the order's acceptance."""


class Dispatched(Model):
    """The cut of a dispatch for the services that only move on with it."""

    tracking_number: str
    carrier: str


class PaymentCaptured(Model):
    amount_cents: int


class StockConsumed(Model):
    units: int


class ParcelPickedUp(Model):
    at: datetime


class DeliveryLate(Model):
    tracking_number: str
    deadline: timedelta
    customer_email: Email | None = None
    """Until payloads were cut (the escalation goes to operations: nobody wrote to it)."""


class ParcelDelivered(Model):
    at: datetime
    late: bool


class ParcelLost(Model):
    detail: str


class OrderEnded(Model):
    customer_email: Email
    outcome: OrderOutcome


class CustomerNotified(Model):
    """The last message of the order is sent: every service has done its part."""

    kind: str


# -- the hybrid style's warehouse ------------------------------------------------------------


class Fulfilment(Model):
    """What the orchestrator asks of the warehouse."""

    customer_id: str
    shipment: ShipmentRequest


class WarehouseFulfilment(Model):
    """Picking's and packing's cut: the parcel, no address."""

    customer_id: str
    shipment: Parcel


class CarrierFulfilment(Model):
    """The hand-off's cut: the parcel and where it goes, kept until it is packed."""

    customer_id: str
    shipment: ParcelShipment


class ItemsPicked(Model):
    lines: int
    customer_id: str | None = None
    fulfilment: Fulfilment | None = None
    """Until payloads were cut: the whole request, address included, passed down the bench."""


class PickedForPacking(Model):
    lines: int
    customer_id: str | None = None
    fulfilment: WarehouseFulfilment | None = None


class ParcelPacked(Model):
    parcels: int
    customer_id: str | None = None
    fulfilment: Fulfilment | None = None
    """Until payloads were cut: the whole request, as packing had it from picking."""


class PackedForHandoff(Model):
    parcels: int
    customer_id: str | None = None
    fulfilment: CarrierFulfilment | None = None


class ParcelHandedOver(Model):
    tracking_number: str
    carrier: str


class ShipmentInTransit(Model):
    at: datetime


class ShipmentLate(Model):
    deadline: timedelta


class ShipmentDelivered(Model):
    at: datetime
    late: bool


class ShipmentLost(Model):
    detail: str
