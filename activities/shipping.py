"""shipping's activities: book a carrier, dispatch (the pivot), cancel (compensation), and keep
what the carrier reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import CancelledError

from activities.common import service_activities, store_activity, store_failures
from domain.messages.common import OrderRef
from domain.messages.shipping import (
    BookingResult,
    BookShipment,
    CancelShipmentResult,
    CarrierReport,
    DispatchResult,
    DispatchShipment,
)
from domain.services import Service
from infra.metrics import count_compensation
from stores.shipping import ShippingStore

HEARTBEAT_EVERY = timedelta(seconds=1)


@service_activities(Service.SHIPPING)
class ShippingActivities:
    def __init__(
        self, store: ShippingStore, on_outbox_written: Callable[[], None] | None = None
    ) -> None:
        """`on_outbox_written`: told (from the activity's thread) once a dispatch has put the
        carrier's reports in the outbox, so that the carrier sends each when it is due instead
        of finding it at its next look."""
        self._store = store
        self._on_outbox_written = on_outbox_written

    @store_activity
    def book_shipment(self, request: BookShipment) -> BookingResult:
        wait_for_carrier(request.order_id, request.simulate_booking_latency)
        with store_failures(request.order_id):
            result = self._store.book(
                request.order_id,
                request.address.one_line(),
                request.parcels,
                simulate_rejection=request.simulate_rejection,
            )
        activity.logger.info(
            "order %s: booked %s, tracking %s",
            request.order_id,
            result.carrier,
            result.tracking_number,
        )
        return result

    @store_activity
    def dispatch_shipment(self, request: DispatchShipment) -> DispatchResult:
        with store_failures(request.order_id):
            result = self._store.dispatch(
                request.order_id, request.report_to, request.simulate_carrier
            )
        if self._on_outbox_written is not None:
            self._on_outbox_written()
        activity.logger.info(
            "order %s: dispatched parcel %s; the carrier reports to %s",
            request.order_id,
            result.tracking_number,
            request.report_to.workflow_id,
        )
        return result

    @store_activity
    def cancel_shipment(self, request: OrderRef) -> CancelShipmentResult:
        with store_failures(request.order_id):
            result = self._store.cancel(request.order_id)
        count_compensation("cancel_shipment", undid=result.cancelled)
        what = "cancelled the booking" if result.cancelled else "nothing booked, closed"
        activity.logger.info("order %s: shipment %s", request.order_id, what)
        return result

    @store_activity
    def record_carrier_event(self, report: CarrierReport) -> None:
        with store_failures(report.order_id):
            new = self._store.record_carrier_event(report)
        activity.logger.info(
            "order %s: carrier reported %s%s",
            report.order_id,
            report.kind.value,
            "" if new else " (already recorded)",
        )

    @store_activity
    def mark_parcel_lost(self, request: OrderRef) -> None:
        with store_failures(request.order_id):
            self._store.mark_lost(request.order_id)
        activity.logger.warning("order %s: parcel marked lost", request.order_id)


def wait_for_carrier(order_id: str, latency: timedelta) -> None:
    """The carrier takes `latency` to confirm a booking: the long wait that heartbeats.

    A heartbeat at least every second keeps the server informed (so a heartbeat time-out catches a
    dead worker) and is how a cancellation reaches a running activity; the wait stops within a
    step of it. The progress travels in the heartbeat, so a retried attempt resumes the wait
    instead of starting over.
    """
    total = latency.total_seconds()
    waited = _resumed_progress()
    while waited < total:
        step = min(HEARTBEAT_EVERY.total_seconds(), total - waited)
        activity.wait_for_cancelled_sync(step)
        if activity.is_cancelled():
            activity.logger.info("order %s: booking cancelled after %.1f s", order_id, waited)
            raise CancelledError(
                f"order {order_id}: booking cancelled while waiting for the carrier"
            )
        waited += step
        activity.heartbeat(waited)


def _resumed_progress() -> float:
    details = activity.info().heartbeat_details
    if details and isinstance(details[0], int | float):
        return float(details[0])
    return 0.0
