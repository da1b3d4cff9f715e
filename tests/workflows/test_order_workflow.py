"""OrderWorkflow and its ShipmentWorkflow child on the time-skipping server, with the real
timeouts (24 h approval window, 2 h handling, 5 day delivery deadline, 14 days before a parcel
counts as lost), real activities and real SQLite stores. Each test takes seconds of wall time.
What every style does alike once the parcel has left (the refusals past the pivot, a delivery on
time or late, a lost parcel, a late approval, the status and search attributes at the end) is
tested once for all of them, in tests/workflows/test_delivery_in_every_style.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, order_status, place_order, send_update
from domain.commands import UPDATE_APPROVE, UPDATE_REJECT, Approve, Reject
from domain.faults import Faults
from domain.order import Order
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderOutcome
from infra.cli import RefusedError
from tests.service_stores import ServiceStores
from tests.support import (
    LARGE_ORDER,
    make_order,
    outcome_of,
    reach,
    until_dispatched,
)
from tests.workflows.moves import carrier_delivers


async def place(client: Client, order: Order) -> PlacedOrder:
    return await place_order(client, order, Style.ORCHESTRATED)


async def dispatched(
    env: WorkflowEnvironment, client: Client, faults: Faults | None = None
) -> tuple[Order, PlacedOrder]:
    """A new order placed, once its parcel has left (the handling time passed)."""
    order = make_order(faults=faults)
    placed = await place(client, order)
    await until_dispatched(env, client, order)
    return order, placed


async def delivered(
    env: WorkflowEnvironment, client: Client, data_dir: Path, placed: PlacedOrder
) -> OrderOutcome:
    """The carrier delivers the parcel; the outcome the order then ends with."""
    await carrier_delivers(env, client, data_dir, placed.order_id)
    return await outcome_of(client, placed)


async def test_rejection_compensates_in_reverse(client: Client, stores: ServiceStores) -> None:
    order = make_order(items=LARGE_ORDER)
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_APPROVAL)

    await send_update(client, order.order_id, UPDATE_REJECT, Reject(approver="bob", reason="no"))
    outcome = await outcome_of(client, placed)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.APPROVAL_REJECTED)
    view = await order_status(client, order.order_id)
    undone = [e.what for e in view.timeline if e.kind is EntryKind.COMPENSATION]
    assert undone == ["void the payment", "release the stock"]
    assert stores.reservation_states(order.order_id) == {"released"}


async def test_approve_is_refused_when_not_awaiting_approval_and_changes_nothing(
    client: Client,
) -> None:
    order = make_order()
    await place(client, order)
    before = await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    with pytest.raises(RefusedError, match="not awaiting approval"):
        await send_update(client, order.order_id, UPDATE_APPROVE, Approve(approver="alice"))

    after = await order_status(client, order.order_id)
    assert (after.status, after.timeline) == (before.status, before.timeline)


async def test_out_of_stock_cancels_before_any_charge(
    client: Client, stores: ServiceStores
) -> None:
    order = make_order(faults=Faults(out_of_stock=True))
    outcome = await outcome_of(client, await place(client, order))

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.OUT_OF_STOCK)
    assert stores.payments.payment(order.order_id) is None
    # the reserve refused every line, so nothing was ever held
    assert stores.reservation_states(order.order_id) == set()


async def test_declined_payment_releases_the_stock(client: Client, stores: ServiceStores) -> None:
    order = make_order(faults=Faults(payment_decline=True))
    outcome = await outcome_of(client, await place(client, order))

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.PAYMENT_DECLINED)
    assert stores.reservation_states(order.order_id) == {"released"}
    assert stores.payments.net_captured(order.order_id) == 0


async def test_transient_gateway_errors_are_retried_until_authorized(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, stores: ServiceStores
) -> None:
    order, placed = await dispatched(time_skipping_env, client, Faults(payment_transient_errors=3))

    attempts = await _attempts_of(client, placed.workflow_id, "authorize_payment")

    assert attempts == 4
    assert (await delivered(time_skipping_env, client, data_dir, placed)).status == "completed"
    assert stores.payments.net_captured(order.order_id) == order.total_cents


async def _attempts_of(client: Client, workflow_id: str, activity: str) -> int:
    """The attempt number of the activity's last start, as the history records it."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled: dict[int, str] = {}
    attempts = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attributes.activity_type.name
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes_started = event.activity_task_started_event_attributes
            if scheduled.get(attributes_started.scheduled_event_id) == activity:
                attempts = attributes_started.attempt
    return attempts
