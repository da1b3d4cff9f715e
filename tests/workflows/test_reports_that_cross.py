"""Two things that happen at once, in every style, on the time-skipping server with real workers
and stores: an approval that reaches the order in the same workflow task as the end of its
approval window, and a carrier's report that comes after a later stage was reached. Neither may
take the order back, nor overrule a person who decided in time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import place_order
from domain.commands import UPDATE_APPROVE, Approve
from domain.messages.shipping import CarrierEventKind
from domain.services import Service, Style
from domain.status import OrderStatus
from domain.views import OrderView
from tests.support import (
    LARGE_ORDER,
    WINDOW,
    admitted,
    at_rest,
    carrier_reports,
    make_order,
    outcome_of,
    reach,
    settled,
    until_dispatched,
)
from tests.workflows.moves import STYLES, at_rest_without

UPDATE_ID = "approve-as-the-window-ends"


@STYLES
async def test_an_approval_that_comes_with_the_end_of_the_window_is_honoured(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style
) -> None:
    """The orders worker, which runs the order's lifecycle, is down while the window ends and
    the approval is sent: when it is back, its one workflow task holds both (the timer fired,
    then the update). The SDK applies the update first, so the decision is met before the
    timeout is read; this guards that the order relies on nothing else."""
    client = time_skipping_env.client
    order = make_order(items=LARGE_ORDER)
    waiting = at_rest_without(
        client, data_dir, order, style, OrderStatus.AWAITING_APPROVAL, Service.ORDERS
    )
    async with waiting as (workers, placed):
        await time_skipping_env.sleep(WINDOW)  # the window's timer fires: a task for orders
        await settled(client, order.order_id, held_by=Service.ORDERS)
        approving = asyncio.create_task(
            client.get_workflow_handle(placed.workflow_id).execute_update(
                UPDATE_APPROVE, Approve(approver="grace"), id=UPDATE_ID, result_type=OrderView
            )
        )
        await admitted(client, placed.workflow_id, UPDATE_ID)
        await workers.start(Service.ORDERS)
        view = await approving
        await time_skipping_env.sleep(order.timeouts.handling_time)
        dispatched = await reach(client, order.order_id, OrderStatus.DISPATCHED)

    assert view.status is not OrderStatus.CANCELLED
    assert "approved by grace" in [entry.what for entry in dispatched.timeline]
    assert dispatched.reason is None


@STYLES
async def test_a_pickup_reported_after_the_deadline_leaves_the_order_late(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, style: Style
) -> None:
    order = make_order()
    placed = await place_order(client, order, style)
    await until_dispatched(time_skipping_env, client, order)
    await time_skipping_env.sleep(order.timeouts.delivery_deadline)
    await reach(client, order.order_id, OrderStatus.DELIVERY_LATE)

    now = await time_skipping_env.get_current_time()
    await carrier_reports(client, data_dir, order.order_id, now, CarrierEventKind.PICKED_UP)
    late = await at_rest(client, order.order_id)  # the report heard: nothing in flight
    await carrier_reports(client, data_dir, order.order_id, now, CarrierEventKind.DELIVERED)
    outcome = await outcome_of(client, placed)

    assert late.status is OrderStatus.DELIVERY_LATE
    assert (outcome.status, outcome.delivered_late) == ("completed", True)
