"""shipping: shipments, their carrier and the carrier's reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from domain.base import Model
from domain.faults import CarrierBehaviour
from domain.order import Address, OrderId


class BookShipment(Model):
    order_id: OrderId
    address: Address
    parcels: int
    simulate_booking_latency: timedelta = timedelta(0)
    simulate_rejection: bool = False


class BookingResult(Model):
    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str


class CarrierSignals(Model):
    """Where the (simulated) carrier sends its reports about this parcel."""

    workflow_id: str
    picked_up_signal: str = "picked_up"
    delivered_signal: str = "delivered"


class DispatchShipment(Model):
    order_id: OrderId
    report_to: CarrierSignals
    simulate_carrier: CarrierBehaviour = CarrierBehaviour()


class DispatchResult(Model):
    order_id: str
    tracking_number: str
    dispatched_at: datetime


class CarrierEventKind(StrEnum):
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"


class CarrierReport(Model):
    """What the carrier tells us about a parcel: the payload of its signals."""

    order_id: str
    tracking_number: str
    kind: CarrierEventKind
    at: datetime


class CancelShipmentResult(Model):
    order_id: str
    cancelled: bool
