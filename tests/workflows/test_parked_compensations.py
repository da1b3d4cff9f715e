"""A compensation that cannot succeed is parked, in every style, on the time-skipping server with
real workers and stores: the other compensations still run, the order waits in `needs_attention`
with operations told, and a person's `resolve` update (what `starters.resolve_order` sends)
retries it or records it undone by hand; then the order ends as it was cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, place_order, send_update
from domain.commands import UPDATE_RESOLVE, Resolution, Resolve
from domain.faults import Faults
from domain.messages.notifications import OPERATIONS_RECIPIENT, NotificationKind
from domain.messages.resolution import Compensation
from domain.order import Order, OrderTimeouts
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from domain.views import OrderView
from infra.cli import RefusedError
from stores.audit import audit_stores
from stores.effects import effects_of
from tests.support import admitted, at_rest, make_order, outcome_of, reach, settled
from tests.workflows.moves import STYLES, at_rest_without, cancel_as_customer, placed_at_rest

RETRY_ID = "retry-with-the-news"
STUCK_ALERT = (str(NotificationKind.COMPENSATION_STUCK), OPERATIONS_RECIPIENT)


async def void_parked(
    client: Client, style: Style, refusals: int
) -> tuple[Order, PlacedOrder, OrderView]:
    """An order whose gateway refuses its void `refusals` times, cancelled by the customer while
    it waits for dispatch; once it has come to rest (parked), and where it stands then."""
    order = make_order(faults=Faults(void_refusals=refusals))
    placed = await placed_at_rest(client, order, style, OrderStatus.AWAITING_DISPATCH)
    await cancel_as_customer(client, order.order_id)
    return order, placed, await at_rest(client, order.order_id)


async def resolve(
    client: Client, order_id: str, action: Resolution, note: str | None = None
) -> OrderView:
    request = Resolve(action=action, resolved_by="operator", note=note)
    return await send_update(client, order_id, UPDATE_RESOLVE, request)


@STYLES
async def test_a_refused_void_parks_the_order_until_a_retry_voids_it(
    client: Client, data_dir: Path, style: Style
) -> None:
    order, placed, parked = await void_parked(client, style, refusals=1)
    effects = effects_of(data_dir, order.order_id)
    audit = audit_stores(data_dir)

    assert parked.status is OrderStatus.NEEDS_ATTENTION
    assert parked.waiting_for is not None
    assert "void the payment" in parked.waiting_for
    assert {state for *_, state in effects.reservations} == {"released"}  # the others still ran
    assert effects.payment_state == "authorized"
    assert STUCK_ALERT in effects.notifications
    assert audit.violations == []
    assert [o.order_id for o in audit.waiting_for_a_person] == [order.order_id]

    view = await resolve(client, order.order_id, Resolution.RETRY)
    outcome = await outcome_of(client, placed)

    assert view.status is OrderStatus.CANCELLED
    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert effects_of(data_dir, order.order_id).payment_state == "voided"
    after = audit_stores(data_dir)
    assert (after.violations, after.waiting_for_a_person, after.resolved_by_hand) == ([], [], [])


@STYLES
async def test_a_void_undone_by_hand_ends_the_order_and_the_audit_says_so(
    client: Client, data_dir: Path, style: Style
) -> None:
    order, placed, parked = await void_parked(client, style, refusals=5)
    assert parked.status is OrderStatus.NEEDS_ATTENTION

    await resolve(client, order.order_id, Resolution.RETRY)  # refused again: parked again
    again = await at_rest(client, order.order_id)
    assert again.status is OrderStatus.NEEDS_ATTENTION
    await resolve(client, order.order_id, Resolution.MARK_DONE, note="voided in the console")
    outcome = await outcome_of(client, placed)
    audit = audit_stores(data_dir)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert audit.violations == []
    assert [(r.order_id, r.compensation, r.note) for r in audit.resolved_by_hand] == [
        (order.order_id, Compensation.VOID_PAYMENT, "voided in the console")
    ]


@pytest.mark.parametrize("style", [Style.ORCHESTRATED, Style.HYBRID], ids=lambda style: style.value)
async def test_a_release_failing_past_its_budget_is_parked_and_retried(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style
) -> None:
    """The orchestrator's release is scheduled and times out while inventory is down. (In the
    choreography the inventory participant itself runs on the inventory worker: with it down,
    nothing is scheduled to fail, and the release simply waits for the service.)"""
    client = time_skipping_env.client
    budget = timedelta(seconds=2)
    """Passes in real time: the time-skipping server does not skip past an activity that waits
    for a worker (its own sleep times out then)."""
    order = make_order(timeouts=OrderTimeouts(compensation_budget=budget))
    waiting = at_rest_without(
        client, data_dir, order, style, OrderStatus.AWAITING_DISPATCH, Service.INVENTORY
    )
    async with waiting as (workers, placed):
        await cancel_as_customer(client, order.order_id)
        await at_rest(client, order.order_id, held_by=Service.INVENTORY)

        parked = await reach(client, order.order_id, OrderStatus.NEEDS_ATTENTION)
        assert parked.waiting_for is not None
        assert "release the stock: out of time" in parked.waiting_for
        assert effects_of(data_dir, order.order_id).payment_state == "voided"  # not blocked

        await workers.start(Service.INVENTORY)
        await resolve(client, order.order_id, Resolution.RETRY)
        outcome = await outcome_of(client, placed)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    effects = effects_of(data_dir, order.order_id)
    assert {state for *_, state in effects.reservations} == {"released"}
    assert audit_stores(data_dir).violations == []


@STYLES
async def test_resolve_is_refused_when_nothing_is_parked_and_changes_nothing(
    client: Client, style: Style
) -> None:
    order = make_order()
    await place_order(client, order, style)
    before = await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    with pytest.raises(RefusedError, match="no compensation is parked"):
        await resolve(client, order.order_id, Resolution.RETRY)

    after = await at_rest(client, order.order_id)
    assert (after.status, after.timeline) == (before.status, before.timeline)


async def test_a_retry_that_comes_with_the_news_of_the_failed_void_is_acted_on(
    time_skipping_env: WorkflowEnvironment, data_dir: Path
) -> None:
    """The choreography's order view hears that the void failed (its status is then
    `needs_attention`) and a person's retry in one workflow task, before it has parked: the retry
    must be relayed, not taken as answered. The orders worker is down while both arrive."""
    client = time_skipping_env.client
    order = make_order(faults=Faults(void_refusals=1))
    waiting = at_rest_without(
        client,
        data_dir,
        order,
        Style.CHOREOGRAPHED,
        OrderStatus.AWAITING_DISPATCH,
        Service.PAYMENTS,
    )
    async with waiting as (workers, placed):
        await cancel_as_customer(client, order.order_id)
        await settled(client, order.order_id, held_by=Service.PAYMENTS)

        await workers.stop(Service.ORDERS)
        await workers.start(Service.PAYMENTS)  # refuses the void: the news waits for orders
        await settled(client, order.order_id, held_by=Service.ORDERS)
        retry = Resolve(action=Resolution.RETRY, resolved_by="operator")
        retrying = asyncio.create_task(
            client.get_workflow_handle(placed.workflow_id).execute_update(
                UPDATE_RESOLVE, retry, id=RETRY_ID, result_type=OrderView
            )
        )
        await admitted(client, placed.workflow_id, RETRY_ID)
        await workers.start(Service.ORDERS)
        view = await retrying
        outcome = await outcome_of(client, placed)

    assert view.status is OrderStatus.CANCELLED
    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert effects_of(data_dir, order.order_id).payment_state == "voided"
