"""Each service has its own activity slots in a process that serves them all (the demo,
`workers.run --service all`): a carrier slow to confirm bookings fills shipping's slots, and the
reservations and authorizations of other orders go on. On the dev server, with every service's
worker in this process, as `workers.run` runs them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from client.orders import order_status, place_order
from domain.faults import Faults
from domain.order import Order, OrderTimeouts
from domain.services import Service, Style, order_workflow_id, shipment_workflow_id
from domain.status import OrderStatus
from tests.conftest import namespace_client
from tests.support import eventually, make_order
from workers.pool import running_workers
from workers.registry import SERVICES

pytestmark = pytest.mark.e2e
NAMESPACE = "workers-slots"
"""This module's own namespace (one of the suite's `TEST_NAMESPACES`): its orders stay
blocked at shipping when it ends, and no other module's workers should find them."""

SLOW_CARRIER = Faults(carrier_booking_latency=timedelta(minutes=10))
"""A booking that holds its slot for longer than the test lasts."""
STRAIGHT_TO_DISPATCH = OrderTimeouts(handling_time=timedelta(0))
"""No handling time: an order goes from its authorization straight to shipping."""

BOOKING = "book_shipment"
STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
SCHEDULED = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> Client:
    return await namespace_client(dev_env, NAMESPACE)


def an_order(faults: Faults | None = None) -> Order:
    return make_order(faults=faults, timeouts=STRAIGHT_TO_DISPATCH)


async def booking_state(client: Client, order_id: str) -> PendingActivityState.ValueType | None:
    """Where the order's booking stands in its shipment workflow: scheduled (waiting for a slot),
    started (holding one); None before it is scheduled."""
    try:
        description = await client.get_workflow_handle(shipment_workflow_id(order_id)).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    for activity in description.raw_description.pending_activities:
        if activity.activity_type.name == BOOKING:
            return activity.state
    return None


async def bookings_started(client: Client, orders: list[Order]) -> int:
    return sum([await booking_state(client, order.order_id) == STARTED for order in orders])


async def terminate(client: Client, orders: list[Order]) -> None:
    """End what the test leaves blocked: a terminated workflow's booking is cancelled at its
    next heartbeat, so the workers stop at once."""
    for order in orders:
        for workflow_id in (
            shipment_workflow_id(order.order_id),
            order_workflow_id(order.order_id),
        ):
            try:
                await client.get_workflow_handle(workflow_id).terminate("the test is over")
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise


async def test_a_slow_carrier_filling_shippings_slots_holds_up_no_reservation_or_authorization(
    client: Client, data_dir: Path
) -> None:
    slots = SERVICES[Service.SHIPPING].activity_slots
    slow = [an_order(SLOW_CARRIER) for _ in range(slots)]
    prompt = an_order()
    async with running_workers(client, list(Service), data_dir, drain_timeout=timedelta(0)):
        try:
            for order in slow:
                await place_order(client, order, Style.ORCHESTRATED)
            await eventually(
                lambda: bookings_started(client, slow),
                lambda started: started == slots,
                what=f"every one of shipping's {slots} slots held by a booking",
                within=timedelta(seconds=60),
            )

            await place_order(client, prompt, Style.ORCHESTRATED)
            view = await eventually(
                lambda: order_status(client, prompt.order_id),
                lambda view: view.status is OrderStatus.DISPATCHING,
                what=f"order {prompt.order_id} reserved, authorized and on to shipping",
            )

            steps = [(entry.service, entry.what) for entry in view.timeline]
            assert (Service.INVENTORY, "stock reserved") in steps, view.timeline
            assert (Service.PAYMENTS, "payment authorized") in steps, view.timeline
            await eventually(
                lambda: booking_state(client, prompt.order_id),
                lambda state: state is not None,
                what=f"order {prompt.order_id}'s booking scheduled",
            )
            assert await booking_state(client, prompt.order_id) == SCHEDULED, "no slot was free"
            assert await bookings_started(client, slow) == slots
        finally:
            await terminate(client, [*slow, prompt])
