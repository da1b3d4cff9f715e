from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from domain.faults import CarrierBehaviour
from domain.messages.common import OrderRef
from domain.messages.shipment import ParcelShipment
from domain.messages.shipping import (
    BookingResult,
    BookShipment,
    CancelShipmentResult,
    CarrierReport,
    CarrierSignals,
    DispatchResult,
    DispatchShipment,
)
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.shipping import ShippingActivities


async def book_shipment(shipment: ParcelShipment) -> BookingResult:
    """The carrier may take a while to confirm: the activity heartbeats while it waits."""
    latency = shipment.simulate_booking_latency
    request = BookShipment(
        order_id=shipment.order_id,
        address=shipment.address,
        parcels=shipment.parcels,
        simulate_booking_latency=latency,
        simulate_rejection=shipment.simulate_rejection,
    )
    return await call(
        ShippingActivities.book_shipment,
        request,
        summary="book a carrier",
        heartbeat_timeout=timedelta(seconds=10),
        extra_time=latency,
    )


async def dispatch_shipment(
    order_id: str, report_to: CarrierSignals, carrier: CarrierBehaviour
) -> DispatchResult:
    request = DispatchShipment(order_id=order_id, report_to=report_to, simulate_carrier=carrier)
    return await call(
        ShippingActivities.dispatch_shipment,
        request,
        policy=UNTIL_DONE,
        summary="dispatch the parcel",
    )


async def cancel_shipment(order_id: str) -> CancelShipmentResult:
    return await call(
        ShippingActivities.cancel_shipment,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE,
        summary="compensation: cancel the shipment",
    )


async def record_carrier_event(report: CarrierReport, *, local: bool = False) -> None:
    await call(
        ShippingActivities.record_carrier_event,
        report,
        policy=UNTIL_DONE,
        summary=f"record carrier report: {report.kind.value}",
        local=local,
    )


async def mark_parcel_lost(order_id: str) -> None:
    await call(
        ShippingActivities.mark_parcel_lost,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE,
        summary="declare the parcel lost",
    )
