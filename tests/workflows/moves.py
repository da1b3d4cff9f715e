"""The moves the workflow tests make on an order, the same in every style: bring it to a stage
and let it rest there (with every worker up, then one stopped), ask of it what a customer asks,
play the carrier. The waits and the workers themselves are `tests.support`'s."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES, PlacedOrder, place_order, send_update
from domain.commands import UPDATE_CANCEL, UPDATE_CHANGE_ADDRESS, Cancel, ChangeAddress
from domain.messages.shipping import CarrierEventKind
from domain.order import Address, Order
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from domain.status import OrderStatus
from domain.views import OrderView
from infra.cli import RefusedError
from stores.audit import audit_stores
from tests.support import (
    ServiceWorkers,
    at_rest,
    carrier_reports,
    closed_workflows,
    expected_workflow_ids,
    reach,
    until_dispatched,
)

STYLES = pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)
"""The test, once in each style."""

NEW_ADDRESS = Address(
    recipient="Grace Hopper", line1="2 Harbour St", city="Sydney", postal_code="2000", country="AU"
)
"""Where the customer asks the parcel to go instead of the order's own address."""


async def cancel_as_customer(
    client: Client, order_id: str, reason: str = "changed my mind"
) -> OrderView:
    """The customer's cancel; refused (`RefusedError`) where the order can no longer be."""
    request = Cancel(requested_by="customer", reason=reason)
    return await send_update(client, order_id, UPDATE_CANCEL, request)


async def readdress(client: Client, order_id: str, address: Address = NEW_ADDRESS) -> OrderView:
    """The customer's change of address; refused where the parcel can no longer be sent there."""
    request = ChangeAddress(address=address)
    return await send_update(client, order_id, UPDATE_CHANGE_ADDRESS, request)


async def carrier_delivers(
    env: WorkflowEnvironment, client: Client, data_dir: Path, order_id: str
) -> None:
    """The carrier reports the parcel picked up and delivered, both as of now (the server's
    skipped clock)."""
    now = await env.get_current_time()
    kinds = (CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED)
    await carrier_reports(client, data_dir, order_id, now, *kinds)


async def placed_at_rest(
    client: Client, order: Order, style: Style, status: OrderStatus
) -> PlacedOrder:
    """The order placed in `style`, once it has reached `status` and nothing of it is in
    flight any more (what a test does next is the only thing that moves it)."""
    placed = await place_order(client, order, style)
    await reach(client, order.order_id, status)
    await at_rest(client, order.order_id)
    return placed


@contextlib.asynccontextmanager
async def at_rest_without(
    client: Client,
    data_dir: Path,
    order: Order,
    style: Style,
    status: OrderStatus,
    down: Service,
) -> AsyncIterator[tuple[ServiceWorkers, PlacedOrder]]:
    """`placed_at_rest` with every service's worker up; then `down`'s worker stops, and the
    others run on for the block (`workers.start(down)` brings it back)."""
    async with ServiceWorkers(client, data_dir) as workers:
        await workers.start(*Service)
        placed = await placed_at_rest(client, order, style, status)
        await workers.stop(down)
        yield workers, placed


async def carrier_picks_up(
    env: WorkflowEnvironment, client: Client, data_dir: Path, order: Order
) -> None:
    """The carrier reports the parcel picked up as of now, and the order hears it."""
    now = await env.get_current_time()
    await carrier_reports(client, data_dir, order.order_id, now, CarrierEventKind.PICKED_UP)
    await reach(client, order.order_id, OrderStatus.IN_TRANSIT)


async def refused_cancel_and_readdress(client: Client, order_id: str, status: OrderStatus) -> None:
    """The customer asks to cancel and to change the address of an order past its pivot, now
    `status`: both are refused, saying why."""
    too_late = f"it is {status.value} and can no longer be"
    with pytest.raises(RefusedError, match=f"{too_late} cancelled"):
        await cancel_as_customer(client, order_id)
    with pytest.raises(RefusedError, match=f"{too_late} re-addressed"):
        await readdress(client, order_id)


async def dispatched_in(
    env: WorkflowEnvironment, client: Client, order: Order, style: Style
) -> PlacedOrder:
    """The order placed in `style`, once the (real, two-hour) handling time has passed and its
    parcel has left."""
    placed = await place_order(client, order, style)
    await until_dispatched(env, client, order)
    return placed


async def ended_cleanly(client: Client, data_dir: Path, style: Style, order_id: str) -> None:
    """Once none of the order's workflows runs any more: each of those an order that reached
    dispatch has in `style` (its orchestrator and shipment child, its orchestrator and
    warehouse, or every participant) ended completed, none is missing, and the audit finds the
    stores clean (no order open, nothing held or charged that should not be)."""
    closed = await closed_workflows(client, order_id)
    assert {w: d.status for w, d in closed.items()} == dict.fromkeys(
        expected_workflow_ids(SCENARIOS_BY_NAME["happy"], style, order_id),
        WorkflowExecutionStatus.COMPLETED,
    )
    report = audit_stores(data_dir)
    assert (report.violations, report.open_orders) == ([], [])
