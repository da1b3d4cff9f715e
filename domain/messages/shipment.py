"""The orchestrated style's shipment: what the order hands to its child workflow, what the child
reports back while the parcel travels, and how it ended."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from domain.base import Model
from domain.faults import CarrierBehaviour
from domain.order import Address, Email, Order, OrderId
from domain.personal import PersonalData


class Parcel(Model):
    """What the warehouse's picking and packing need: which order, how many parcels."""

    order_id: OrderId
    parcels: int


class ParcelShipment(Parcel):
    """What shipping needs to book a carrier and follow the parcel: the address, no email."""

    address: Annotated[Address, PersonalData.ADDRESS]
    delivery_deadline: timedelta
    lost_after: timedelta
    simulate_booking_latency: timedelta = timedelta(0)
    simulate_rejection: bool = False
    simulate_carrier: CarrierBehaviour = CarrierBehaviour()


class ShipmentRequest(ParcelShipment):
    """The whole of it, as the orchestrated order hands it to its shipment child."""

    customer_email: Email

    @classmethod
    def for_order(cls, order: Order, address: Address) -> ShipmentRequest:
        """What every style hands to shipping at dispatch; `address` is the current one (the
        customer may have changed it since the order was placed)."""
        return cls(
            order_id=order.order_id,
            customer_email=order.customer.email,
            address=address,
            parcels=len(order.items),
            delivery_deadline=order.timeouts.delivery_deadline,
            lost_after=order.timeouts.lost_after,
            simulate_booking_latency=order.faults.carrier_booking_latency,
            simulate_rejection=order.faults.carrier_rejects,
            simulate_carrier=order.faults.carrier,
        )


class ShipmentStage(StrEnum):
    BOOKED = "booked"
    DISPATCHED = "dispatched"
    PICKED_UP = "picked_up"
    LATE = "late"
    DELIVERED = "delivered"
    LOST = "lost"


class ShipmentProgress(Model):
    """A stage of the shipment, as it tells its order: by a signal at each stage the order waits
    on or shows while it waits, the others with the next signal (`earlier`) or with the result.
    (Shipments started before `LEAN_HISTORY` signalled every stage.)"""

    order_id: str
    stage: ShipmentStage
    at: datetime
    tracking_number: str | None = None
    detail: str | None = None
    earlier: Annotated[list[ShipmentProgress], Field(max_length=len(ShipmentStage))] = []
    """The stages before this one that the order was not told of yet, in order: fewer than
    there are stages (a signal from elsewhere with more is refused, not written to the
    timeline)."""


class ShipmentResult(Model):
    order_id: str
    stage: ShipmentStage
    tracking_number: str
    delivered_at: datetime | None = None
    late: bool = False
    progress: Annotated[list[ShipmentProgress], Field(max_length=len(ShipmentStage))] = []
    """The stages the order was not told of by signal, in order (the last is this one)."""


SIGNAL_SHIPMENT_PROGRESS = "shipment_progress"
"""The signal by which a shipment reports its progress to its order."""
