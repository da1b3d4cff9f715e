"""What every style must do alike, each test run in the three styles on the time-skipping server
with real workers and stores: where a service's worker is stopped, the order waits for it at
exactly the step that needs it, and nothing after that step happens before it is back.

These are the orderings the end-to-end scenarios cannot show (every worker is up there): an order
recorded as ended before its payment is voided or captured would pass any audit taken once
everything has caught up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES, PlacedOrder, place_order, send_update
from domain.commands import UPDATE_CANCEL, UPDATE_CHANGE_ADDRESS, Cancel, ChangeAddress
from domain.messages.shipping import CarrierEventKind
from domain.order import Address, Order
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from infra.cli import RefusedError
from stores import store_path
from stores.effects import effects_of
from stores.orders import OrdersStore
from stores.shipping import ShippingStore
from tests.support import at_rest, carrier_reports, make_order, outcome_of, reach, until_dispatched
from workers.pool import running_workers

STYLES = pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)

NEW_ADDRESS = Address(
    recipient="Grace Hopper", line1="2 Harbour St", city="Sydney", postal_code="2000", country="AU"
)
BUT_PAYMENTS = [service for service in Service if service is not Service.PAYMENTS]


@contextlib.asynccontextmanager
async def workers(
    client: Client, services: Sequence[Service], data_dir: Path
) -> AsyncIterator[None]:
    """These services' workers; the test plays the carrier (its clock is the skipped one). Not
    sticky: the time-skipping server would keep a workflow's next task for a stopped worker."""
    async with running_workers(client, services, data_dir, simulate_carrier=False, sticky=False):
        yield


@contextlib.asynccontextmanager
async def payments_down_once_waiting_for_dispatch(
    client: Client, order: Order, style: Style, data_dir: Path
) -> AsyncIterator[PlacedOrder]:
    """The order placed with every worker up, reserved and authorized and waiting for dispatch;
    then the payments worker stops, and the others run on for the block."""
    async with workers(client, BUT_PAYMENTS, data_dir):
        async with workers(client, [Service.PAYMENTS], data_dir):
            placed = await place_order(client, order, style)
            await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
            await at_rest(client, order.order_id)
        yield placed


def outcome_recorded(data_dir: Path, order_id: str) -> bool:
    record = OrdersStore(store_path(data_dir, Service.ORDERS)).order(order_id)
    return record is not None and record.outcome is not None


@STYLES
async def test_the_address_changed_before_dispatch_is_the_one_shipped_to(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, style: Style
) -> None:
    order = make_order()
    placed = await place_order(client, order, style)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    view = await send_update(
        client, order.order_id, UPDATE_CHANGE_ADDRESS, ChangeAddress(address=NEW_ADDRESS)
    )

    assert view.shipping_address == NEW_ADDRESS.one_line()
    await time_skipping_env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)
    shipment = ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order.order_id)
    assert shipment is not None
    assert shipment.address_line == NEW_ADDRESS.one_line()
    now = await time_skipping_env.get_current_time()
    kinds = (CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED)
    await carrier_reports(client, data_dir, order.order_id, now, *kinds)
    assert (await outcome_of(client, placed)).status == "completed"


@STYLES
async def test_a_cancelled_order_stays_compensating_until_its_payment_is_voided(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style
) -> None:
    client = time_skipping_env.client
    order = make_order()
    async with payments_down_once_waiting_for_dispatch(client, order, style, data_dir) as placed:
        cancelling = await send_update(
            client, order.order_id, UPDATE_CANCEL, Cancel(requested_by="customer", reason="oops")
        )
        held = await at_rest(client, order.order_id, held_by=Service.PAYMENTS)

        assert (cancelling.status, held.status) == (OrderStatus.COMPENSATING,) * 2
        assert not outcome_recorded(data_dir, order.order_id), "ended before the void"
        with pytest.raises(RefusedError, match="it is compensating and can no longer be re-"):
            await send_update(
                client, order.order_id, UPDATE_CHANGE_ADDRESS, ChangeAddress(address=NEW_ADDRESS)
            )
        async with workers(client, [Service.PAYMENTS], data_dir):
            outcome = await outcome_of(client, placed)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    effects = effects_of(data_dir, order.order_id)
    assert (effects.payment_state, {state for *_, state in effects.reservations}) == (
        "voided",
        {"released"},
    )


@STYLES
async def test_a_delivered_order_is_not_completed_before_its_payment_is_captured(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style
) -> None:
    client = time_skipping_env.client
    order = make_order()
    async with payments_down_once_waiting_for_dispatch(client, order, style, data_dir) as placed:
        # the capture at dispatch waits for it
        await until_dispatched(time_skipping_env, client, order)
        now = await time_skipping_env.get_current_time()
        kinds = (CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED)
        await carrier_reports(client, data_dir, order.order_id, now, *kinds)

        held = await at_rest(client, order.order_id, held_by=Service.PAYMENTS)

        assert not held.status.is_final, held.status
        assert not outcome_recorded(data_dir, order.order_id), "ended before the capture"
        async with workers(client, [Service.PAYMENTS], data_dir):
            outcome = await outcome_of(client, placed)

    assert outcome.status == "completed"
    effects = effects_of(data_dir, order.order_id)
    assert (effects.payment_state, {state for *_, state in effects.reservations}) == (
        "captured",
        {"consumed"},
    )
