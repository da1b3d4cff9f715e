"""A cancel of the order's workflow (`temporal workflow cancel`, the Web UI, `handle.cancel()`)
at any point before the pivot, in every style, on the time-skipping server with real workers and
stores: while the order waits for a person or for dispatch, while the step it lands on waits for
a service whose worker is down, while the saga compensates, while the customer is told the
outcome. Each ends the same way once the service is back: everything undone, the outcome
recorded in the orders store (not only the workflow closed), the customer told, the audit clean.
After the pivot the same cancel changes nothing: the order only goes forward.

The SDK reports such a cancel to the workflow as `asyncio.CancelledError` where it waits on a
timer or a condition, and as an `ActivityError` caused by a `CancelledError` where it waits on an
activity; both are tried here, the second by keeping the step's worker down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, order_status, place_order
from domain.events.envelope import Party
from domain.messages.notifications import NotificationKind
from domain.order import LineItem, Order
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from domain.views import OrderOutcome
from stores.audit import audit_stores
from stores.effects import effects_of
from tests.service_stores import ServiceStores
from tests.support import (
    LARGE_ORDER,
    SMALL_ORDER,
    ServiceWorkers,
    at_rest,
    closed_workflows,
    eventually,
    make_order,
    outcome_of,
    settled,
    until_dispatched,
)
from tests.workflows.moves import (
    STYLES,
    at_rest_without,
    cancel_as_customer,
    carrier_delivers,
    placed_at_rest,
)


def all_but(*down: Service) -> list[Service]:
    return [service for service in Service if service not in down]


@dataclass(frozen=True)
class StepPoint:
    """Where the cancel lands: the step the order waits on while `down`'s worker is down.
    `passed_first` is down at the start instead, so that the order is held before the step, and
    goes down only once the order has passed what it needs of `down` (the first notice)."""

    name: str
    down: Service
    large: bool = False
    passed_first: Service | None = None

    def order(self) -> Order:
        return make_order(items=LARGE_ORDER) if self.large else make_order()


STEP_POINTS = (
    StepPoint("the first record", Service.ORDERS),
    StepPoint("the receipt", Service.NOTIFICATIONS),
    StepPoint("the reservation", Service.INVENTORY),
    StepPoint("the authorization", Service.PAYMENTS),
    StepPoint(
        "the approval notice", Service.NOTIFICATIONS, large=True, passed_first=Service.INVENTORY
    ),
)


async def recorded_outcome(stores: ServiceStores, order_id: str) -> OrderOutcome:
    """The outcome the order recorded in the orders store (a workflow closed as cancelled
    without it is exactly the bug)."""

    async def probe() -> OrderOutcome | None:
        record = stores.orders.order(order_id)
        return None if record is None else record.outcome

    outcome = await eventually(
        probe, lambda found: found is not None, what=f"order {order_id}'s outcome recorded"
    )
    assert outcome is not None
    return outcome


async def ended_clean(
    client: Client, data_dir: Path, placed: PlacedOrder, reason: CancelReason
) -> dict[str, WorkflowExecutionStatus]:
    """The order ended cancelled for `reason`, with nothing left held or charged, the customer
    told, the audit clean; returns how each of its workflows closed."""
    outcome = await recorded_outcome(ServiceStores(data_dir), placed.order_id)
    closed = await closed_workflows(client, placed.order_id)
    effects = effects_of(data_dir, placed.order_id)
    audit = audit_stores(data_dir)

    assert (outcome.status, outcome.reason) == ("cancelled", reason)
    assert effects.payment_state in (None, "voided")
    assert {state for *_, state in effects.reservations} <= {"released"}
    assert (str(NotificationKind.ORDER_CANCELLED), "ada@example.com") in effects.notifications
    assert (audit.violations, audit.open_orders) == ([], [])
    return {
        workflow_id: description.status
        for workflow_id, description in closed.items()
        if description.status is not None
    }


async def cancel_workflow(client: Client, placed: PlacedOrder) -> None:
    """As `temporal workflow cancel` does: a cancel request to the lifecycle workflow."""
    await client.get_workflow_handle(placed.workflow_id).cancel()


async def cancel_heard(client: Client, placed: PlacedOrder, held_by: Service) -> None:
    """The workflow has taken the cancel in (what it does next waits on `held_by` again), before
    that service's worker comes back. The time-skipping server refuses a workflow task that
    cancels an activity finished meanwhile (temporalio/sdk-java#2391), which a worker coming
    back at once could make happen; the dev server does not."""
    await settled(client, placed.order_id, held_by=held_by)


@STYLES
@pytest.mark.parametrize("point", STEP_POINTS, ids=lambda point: point.name.replace(" ", "_"))
async def test_a_workflow_cancel_while_a_step_waits_for_its_service_undoes_everything(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style, point: StepPoint
) -> None:
    """The order held at the point's step (its service's worker down) when the cancel comes;
    once the cancel is taken in and the worker is back, the order ends undone."""
    client = time_skipping_env.client
    order = point.order()
    async with ServiceWorkers(client, data_dir) as workers:
        first_down = point.passed_first or point.down
        await workers.start(*all_but(first_down))
        placed = await place_order(client, order, style)
        if point.passed_first is not None:
            await settled(client, order.order_id, held_by=point.passed_first)
            await workers.stop(point.down)
            await workers.start(point.passed_first)
        await settled(client, order.order_id, held_by=point.down)

        await cancel_workflow(client, placed)
        await cancel_heard(client, placed, held_by=point.down)
        await workers.start(point.down)
        closed = await ended_clean(client, data_dir, placed, CancelReason.WORKFLOW_CANCELLED)

    assert closed[placed.workflow_id] is WorkflowExecutionStatus.CANCELED


@dataclass(frozen=True)
class Wait:
    """Where the cancel lands with every worker up: the order at rest at `status`, its stock
    held and its payment authorized, waiting for a person or for the handling time to pass."""

    name: str
    status: OrderStatus
    items: tuple[LineItem, ...] = SMALL_ORDER


WAITS = (
    Wait("for approval", OrderStatus.AWAITING_APPROVAL, LARGE_ORDER),
    Wait("for dispatch", OrderStatus.AWAITING_DISPATCH),
)


@STYLES
@pytest.mark.parametrize("wait", WAITS, ids=lambda wait: wait.name.replace(" ", "_"))
async def test_a_workflow_cancel_while_the_order_waits_undoes_everything(
    client: Client, data_dir: Path, stores: ServiceStores, style: Style, wait: Wait
) -> None:
    order = make_order(items=wait.items)
    placed = await placed_at_rest(client, order, style, wait.status)

    await cancel_workflow(client, placed)
    closed = await ended_clean(client, data_dir, placed, CancelReason.WORKFLOW_CANCELLED)

    assert closed[placed.workflow_id] is WorkflowExecutionStatus.CANCELED
    assert stores.reservation_states(order.order_id) == {"released"}  # held, then let go
    assert stores.payments.net_captured(order.order_id) == 0


@dataclass(frozen=True)
class UndoPoint:
    """A workflow cancel that lands while a customer's cancellation is being carried out:
    `down`'s worker holds the compensation (or the final notice) it lands on."""

    name: str
    down: Service


UNDO_POINTS = (
    UndoPoint("the void", Service.PAYMENTS),
    UndoPoint("the release", Service.INVENTORY),
    UndoPoint("the final notice", Service.NOTIFICATIONS),
)


@STYLES
@pytest.mark.parametrize("point", UNDO_POINTS, ids=lambda point: point.name.replace(" ", "_"))
async def test_a_workflow_cancel_during_a_customers_cancellation_cuts_nothing_short(
    time_skipping_env: WorkflowEnvironment, data_dir: Path, style: Style, point: UndoPoint
) -> None:
    client = time_skipping_env.client
    order = make_order()
    waiting = at_rest_without(
        client, data_dir, order, style, OrderStatus.AWAITING_DISPATCH, point.down
    )
    async with waiting as (workers, placed):
        await cancel_as_customer(client, order.order_id)
        held = await at_rest(client, order.order_id, held_by=point.down)
        assert held.status in (OrderStatus.COMPENSATING, OrderStatus.CANCELLED)

        await cancel_workflow(client, placed)  # lands on the undo the worker holds
        await cancel_heard(client, placed, held_by=point.down)
        await workers.start(point.down)
        closed = await ended_clean(client, data_dir, placed, CancelReason.CUSTOMER_CANCELLED)
        view = await order_status(client, order.order_id)

    # The order ends as the customer asked; the workflow completes (it has an outcome to give).
    assert closed[placed.workflow_id] is WorkflowExecutionStatus.COMPLETED
    assert "workflow cancellation noted" in [entry.what for entry in view.timeline]


@pytest.mark.parametrize(
    "party", [Party.INVENTORY, Party.PAYMENTS, Party.NOTIFICATIONS], ids=lambda party: party.value
)
async def test_a_cancel_of_any_participant_before_the_pivot_cancels_the_order(
    client: Client, data_dir: Path, party: Party
) -> None:
    """The choreography has no one workflow to cancel: whichever of the order's participants an
    operator cancels forwards it to the order view, and goes on to undo its own part."""
    order = make_order()
    placed = await placed_at_rest(client, order, Style.CHOREOGRAPHED, OrderStatus.AWAITING_DISPATCH)

    await client.get_workflow_handle(party.workflow_id(order.order_id)).cancel()
    closed = await ended_clean(client, data_dir, placed, CancelReason.WORKFLOW_CANCELLED)

    assert closed[placed.workflow_id] is WorkflowExecutionStatus.CANCELED
    assert closed[party.workflow_id(order.order_id)] is WorkflowExecutionStatus.COMPLETED


@pytest.mark.parametrize(
    ("style", "party"),
    [
        (Style.ORCHESTRATED, Party.ORCHESTRATOR),
        (Style.CHOREOGRAPHED, Party.SHIPPING),
        (Style.HYBRID, Party.HANDOFF),
    ],
    ids=lambda value: value.value,
)
async def test_a_cancel_of_a_participant_after_the_pivot_changes_nothing(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
    party: Party,
) -> None:
    """Whichever workflow follows the parcel (the orchestrator itself, the choreography's
    shipping participant, the hybrid's carrier hand-off) is cancelled once the parcel has left:
    the order only goes forward, and keeps what it charged."""
    order = make_order()
    placed = await place_order(client, order, style)
    await until_dispatched(time_skipping_env, client, order)
    await at_rest(client, order.order_id)

    await client.get_workflow_handle(party.workflow_id(order.order_id)).cancel()
    await at_rest(client, order.order_id)
    await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
    outcome = await outcome_of(client, placed)
    view = await order_status(client, order.order_id)

    assert outcome.status == "completed"
    assert "workflow cancellation ignored" in [entry.what for entry in view.timeline]
    assert stores.payments.net_captured(order.order_id) == order.total_cents
