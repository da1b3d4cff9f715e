"""What every style must do alike, each test run in the three styles on the time-skipping server
with real workers and stores: where a service's worker is stopped, the order waits for it at
exactly the step that needs it, and nothing after that step happens before it is back.

These are the orderings the end-to-end scenarios cannot show (every worker is up there): an order
recorded as ended before its payment is voided or captured would pass any audit taken once
everything has caught up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, place_order
from domain.order import Order
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from infra.cli import RefusedError
from stores.inventory import ReservationState
from stores.payments import PaymentState
from tests.service_stores import ServiceStores
from tests.support import ServiceWorkers, at_rest, make_order, outcome_of, reach, until_dispatched
from tests.workflows.moves import (
    NEW_ADDRESS,
    STYLES,
    at_rest_without,
    cancel_as_customer,
    carrier_delivers,
    readdress,
)


@contextlib.asynccontextmanager
async def payments_down_at_dispatch(
    env: WorkflowEnvironment, data_dir: Path, style: Style
) -> AsyncIterator[tuple[ServiceWorkers, Order, PlacedOrder]]:
    """A new order placed with every worker up, reserved and authorized and at rest waiting for
    dispatch; then the payments worker stops, and the others run on for the block."""
    order = make_order()
    waiting = at_rest_without(
        env.client, data_dir, order, style, OrderStatus.AWAITING_DISPATCH, Service.PAYMENTS
    )
    async with waiting as (workers, placed):
        yield workers, order, placed


def assert_no_outcome_recorded(stores: ServiceStores, order_id: str, before: str) -> None:
    record = stores.orders.order(order_id)
    assert record is None or record.outcome is None, f"ended before {before}"


def payment_and_stock(
    stores: ServiceStores, order_id: str
) -> tuple[PaymentState | None, set[ReservationState]]:
    """The state of the order's payment, and those of its reservations."""
    payment = stores.payments.payment(order_id)
    return (None if payment is None else payment.state), stores.reservation_states(order_id)


@STYLES
async def test_the_address_changed_before_dispatch_is_the_one_shipped_to(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
) -> None:
    order = make_order()
    placed = await place_order(client, order, style)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    view = await readdress(client, order.order_id)

    assert view.shipping_address == NEW_ADDRESS.one_line()
    await time_skipping_env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)
    shipment = stores.shipping.shipment(order.order_id)
    assert shipment is not None
    assert shipment.address_line == NEW_ADDRESS.one_line()
    await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
    assert (await outcome_of(client, placed)).status == "completed"


@STYLES
async def test_a_cancelled_order_stays_compensating_until_its_payment_is_voided(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, stores: ServiceStores, style: Style
) -> None:
    client = time_skipping_env.client
    waiting = payments_down_at_dispatch(time_skipping_env, data_dir, style)
    async with waiting as (workers, order, placed):
        cancelling = await cancel_as_customer(client, order.order_id)
        held = await at_rest(client, order.order_id, held_by=Service.PAYMENTS)

        assert (cancelling.status, held.status) == (OrderStatus.COMPENSATING,) * 2
        assert_no_outcome_recorded(stores, order.order_id, before="the void")
        with pytest.raises(RefusedError, match="it is compensating and can no longer be re-"):
            await readdress(client, order.order_id)
        await workers.start(Service.PAYMENTS)
        outcome = await outcome_of(client, placed)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert payment_and_stock(stores, order.order_id) == (
        PaymentState.VOIDED,
        {ReservationState.RELEASED},
    )


@STYLES
async def test_a_delivered_order_is_not_completed_before_its_payment_is_captured(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, stores: ServiceStores, style: Style
) -> None:
    """The capture at dispatch waits for the payments worker; the parcel leaves and is delivered
    meanwhile, and the order waits for the capture before it completes."""
    client = time_skipping_env.client
    waiting = payments_down_at_dispatch(time_skipping_env, data_dir, style)
    async with waiting as (workers, order, placed):
        await until_dispatched(time_skipping_env, client, order)
        await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
        held = await at_rest(client, order.order_id, held_by=Service.PAYMENTS)

        assert not held.status.is_final, held.status
        assert_no_outcome_recorded(stores, order.order_id, before="the capture")
        await workers.start(Service.PAYMENTS)
        outcome = await outcome_of(client, placed)

    assert outcome.status == "completed"
    assert payment_and_stock(stores, order.order_id) == (
        PaymentState.CAPTURED,
        {ReservationState.CONSUMED},
    )
