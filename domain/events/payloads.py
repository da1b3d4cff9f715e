"""The payload of each event type. An event carries what its consumers need to act on it, so a
participant never has to ask another service for anything."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.base import Model
from domain.messages.resolution import Compensation
from domain.messages.shipment import ShipmentRequest
from domain.order import Order
from domain.status import CancelReason
from domain.views import OrderOutcome


class OrderPayload(Model):
    """The order itself: what the first participants need to reserve and to charge."""

    order: Order


class StepFailed(Model):
    """A step that could not be done, and the reason the order is cancelled for."""

    reason: CancelReason
    detail: str


class StockReserved(Model):
    order: Order
    units: int


class PaymentAuthorized(Model):
    authorization_id: str
    amount_cents: int


class ApprovalRequested(Model):
    customer_email: str
    total_cents: int
    window: timedelta


class OrderConfirmed(Model):
    """The order may ship: approved (or needing no approval) and through its handling time."""

    customer_id: str
    shipment: ShipmentRequest


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
    customer_email: str
    tracking_number: str
    carrier: str


class PaymentCaptured(Model):
    amount_cents: int


class StockConsumed(Model):
    units: int


class ParcelPickedUp(Model):
    at: datetime


class DeliveryLate(Model):
    customer_email: str
    tracking_number: str
    deadline: timedelta


class ParcelDelivered(Model):
    at: datetime
    late: bool


class ParcelLost(Model):
    detail: str


class OrderEnded(Model):
    customer_email: str
    outcome: OrderOutcome


class CustomerNotified(Model):
    """The last message of the order is sent: every service has done its part."""

    kind: str


# -- the hybrid style's warehouse ------------------------------------------------------------


class Fulfilment(Model):
    """What the warehouse passes along, from the orchestrator's request to the carrier hand-off."""

    customer_id: str
    shipment: ShipmentRequest


class ItemsPicked(Model):
    fulfilment: Fulfilment
    lines: int


class ParcelPacked(Model):
    fulfilment: Fulfilment
    parcels: int


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
