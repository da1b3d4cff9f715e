"""Knobs for the simulated outside world (stock, payment gateway, carrier), carried by the order.

They travel with the order rather than living in a side table so that every style, and every
worker wherever it runs (a container with its own volume included), sees the same plan for the
same order. A real order simply leaves them at their defaults: nothing goes wrong, and the carrier
is prompt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from domain.base import Model
from domain.limits import MAX_WAIT


class CarrierBehaviour(Model):
    """When the simulated carrier reports on a dispatched parcel."""

    pickup_after: Annotated[timedelta, Field(ge=timedelta(0), le=MAX_WAIT)] = timedelta(seconds=1)
    deliver_after: Annotated[
        timedelta | None,
        Field(
            ge=timedelta(0),
            le=MAX_WAIT,
            description="time from pickup to delivery; null: the parcel is lost",
        ),
    ] = timedelta(seconds=1)


class Faults(Model):
    out_of_stock: Annotated[bool, Field(description="inventory reports every line unavailable")] = (
        False
    )
    payment_decline: Annotated[bool, Field(description="the gateway declines the card")] = False
    payment_transient_errors: Annotated[
        int, Field(ge=0, le=20, description="gateway time-outs before it answers")
    ] = 0
    void_refusals: Annotated[
        int,
        Field(
            ge=0,
            le=20,
            description="how many times the gateway refuses to void the authorization, each a "
            "business failure: the compensation parks until a person retries or undoes it",
        ),
    ] = 0
    carrier_booking_latency: Annotated[
        timedelta,
        Field(
            ge=timedelta(0),
            le=timedelta(minutes=10),
            description="how long the carrier takes to confirm a booking",
        ),
    ] = timedelta(0)
    carrier_rejects: Annotated[
        bool, Field(description="no carrier takes the parcel: the booking is refused")
    ] = False
    carrier: CarrierBehaviour = CarrierBehaviour()
