"""ShipmentWorkflow on its own (no parent order), on the time-skipping server with the real
five-day delivery deadline: the carrier's reports, repeated or wrong, change nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.messages.notifications import NotificationKind
from domain.messages.shipment import ShipmentRequest, ShipmentResult, ShipmentStage
from domain.messages.shipping import CarrierEventKind, CarrierReport
from domain.services import Service, shipment_workflow_id
from stores import store_path
from stores.notifications import NotificationsStore
from stores.shipping import ShippingStore
from tests.support import ADDRESS, eventually, result_of
from workflows.orchestrated.shipment import ShipmentWorkflow


async def start_shipment(
    client: Client, booking_latency: timedelta = timedelta(0)
) -> tuple[str, WorkflowHandle[ShipmentWorkflow, ShipmentResult]]:
    order_id = f"ship-{uuid.uuid4().hex[:8]}"
    request = ShipmentRequest(
        order_id=order_id,
        customer_email="ada@example.com",
        address=ADDRESS,
        parcels=1,
        delivery_deadline=timedelta(days=5),
        lost_after=timedelta(days=14),
        simulate_booking_latency=booking_latency,
    )
    handle = await client.start_workflow(
        ShipmentWorkflow.run,
        request,
        id=shipment_workflow_id(order_id),
        task_queue=Service.SHIPPING.task_queue,
    )
    return order_id, handle


async def until_stage(
    handle: WorkflowHandle[ShipmentWorkflow, ShipmentResult], stage: ShipmentStage
) -> None:
    await eventually(
        lambda: handle.query(ShipmentWorkflow.stage),
        lambda reached: reached is stage,
        what=f"the shipment at {stage.value}",
    )


def tracking_number(data_dir: Path, order_id: str) -> str:
    shipment = ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order_id)
    assert shipment is not None
    assert shipment.tracking_number is not None
    return shipment.tracking_number


def report(
    order_id: str, kind: CarrierEventKind, at_offset: timedelta, tracking_number: str
) -> CarrierReport:
    return CarrierReport(
        order_id=order_id,
        tracking_number=tracking_number,
        kind=kind,
        at=datetime(2026, 1, 1, tzinfo=UTC) + at_offset,
    )


async def test_repeated_and_mismatched_reports_are_recorded_once(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path
) -> None:
    order_id, handle = await start_shipment(client)
    await until_stage(handle, ShipmentStage.DISPATCHED)
    tracking = tracking_number(data_dir, order_id)

    picked_up = report(order_id, CarrierEventKind.PICKED_UP, timedelta(hours=1), tracking)
    await handle.signal(ShipmentWorkflow.picked_up, picked_up)
    await handle.signal(ShipmentWorkflow.picked_up, picked_up)
    await handle.signal(ShipmentWorkflow.delivered, picked_up)  # a pickup sent as a delivery
    stranger = report("other", CarrierEventKind.DELIVERED, timedelta(), tracking)
    await handle.signal(ShipmentWorkflow.delivered, stranger)  # another order's report
    wrong_parcel = report(order_id, CarrierEventKind.DELIVERED, timedelta(), "TRK-NOT-OURS")
    await handle.signal(ShipmentWorkflow.delivered, wrong_parcel)
    await until_stage(handle, ShipmentStage.PICKED_UP)
    delivered = report(order_id, CarrierEventKind.DELIVERED, timedelta(days=1), tracking)
    await handle.signal(ShipmentWorkflow.delivered, delivered)
    await handle.signal(ShipmentWorkflow.delivered, delivered)

    result = await result_of(handle)

    assert (result.stage, result.late, result.delivered_at) == (
        ShipmentStage.DELIVERED,
        False,
        delivered.at,
    )
    events = ShippingStore(store_path(data_dir, Service.SHIPPING)).carrier_events(order_id)
    assert sorted(event.kind.value for event in events) == ["delivered", "picked_up"]


async def test_a_slow_carrier_booking_heartbeats_and_still_books(
    client: Client, data_dir: Path
) -> None:
    order_id, handle = await start_shipment(client, booking_latency=timedelta(seconds=2))

    await until_stage(handle, ShipmentStage.DISPATCHED)

    history = await handle.fetch_history()
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    booking = next(a for a in scheduled if a.activity_type.name == "book_shipment")
    assert booking.heartbeat_timeout.ToTimedelta() == timedelta(seconds=10)
    shipment = ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order_id)
    assert shipment is not None
    assert str(shipment.state) == "dispatched"


async def test_no_delivery_within_the_deadline_escalates_once(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path
) -> None:
    order_id, handle = await start_shipment(client)
    await until_stage(handle, ShipmentStage.DISPATCHED)

    await time_skipping_env.sleep(timedelta(days=5, minutes=1))
    await until_stage(handle, ShipmentStage.LATE)
    await time_skipping_env.sleep(timedelta(days=1))

    messages = NotificationsStore(store_path(data_dir, Service.NOTIFICATIONS)).messages(order_id)
    assert [m.kind for m in messages] == [NotificationKind.DELIVERY_LATE]
    tracking = tracking_number(data_dir, order_id)
    await handle.signal(
        ShipmentWorkflow.delivered,
        report(order_id, CarrierEventKind.DELIVERED, timedelta(days=6), tracking),
    )
    result = await result_of(handle)
    assert (result.stage, result.late) == (ShipmentStage.DELIVERED, True)
