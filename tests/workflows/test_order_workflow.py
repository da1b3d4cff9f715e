"""OrderWorkflow and its ShipmentWorkflow child on the time-skipping server, with the real
timeouts (24 h approval window, 2 h handling, 5 day delivery deadline, 14 days before a parcel
counts as lost), real activities and real SQLite stores. Each test takes seconds of wall time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, order_status, place_order, send_update
from domain import search_attributes
from domain.commands import UPDATE_APPROVE, UPDATE_REJECT, Approve, Reject
from domain.faults import Faults
from domain.messages.notifications import NotificationKind
from domain.order import Order
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderOutcome
from infra.cli import RefusedError
from tests.service_stores import ServiceStores
from tests.support import (
    LARGE_ORDER,
    TOKEN,
    WINDOW,
    make_order,
    outcome_of,
    reach,
    until_dispatched,
)
from tests.workflows.moves import cancel_as_customer, carrier_delivers, readdress


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


async def refused_cancel_and_readdress(client: Client, order_id: str, status: OrderStatus) -> None:
    """The customer asks to cancel and to change the address of an order past its pivot."""
    too_late = f"it is {status.value} and can no longer be"
    with pytest.raises(RefusedError, match=f"{too_late} cancelled"):
        await cancel_as_customer(client, order_id)
    with pytest.raises(RefusedError, match=f"{too_late} re-addressed"):
        await readdress(client, order_id)


async def test_happy_path_charges_once_consumes_stock_and_notifies(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, stores: ServiceStores
) -> None:
    order, placed = await dispatched(time_skipping_env, client)

    outcome = await delivered(time_skipping_env, client, data_dir, placed)

    assert (outcome.status, outcome.reason, outcome.delivered_late) == ("completed", None, False)
    assert stores.payments.net_captured(order.order_id) == order.total_cents
    assert stores.reservation_states(order.order_id) == {"consumed"}
    assert stores.notification_kinds(order.order_id) == {
        NotificationKind.ORDER_RECEIVED,
        NotificationKind.ORDER_DISPATCHED,
        NotificationKind.ORDER_DELIVERED,
    }
    record = stores.orders.order(order.order_id)
    assert record is not None
    assert record.outcome is not None
    assert record.outcome.status == "completed"


async def test_approval_late_in_the_window_still_counts(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, stores: ServiceStores
) -> None:
    order = make_order(items=LARGE_ORDER)
    placed = await place(client, order)
    waiting = await reach(client, order.order_id, OrderStatus.AWAITING_APPROVAL)
    requested = next(e.at for e in waiting.timeline if e.what == "approval requested")
    assert (waiting.waiting_for, waiting.deadline) == (
        "a person to approve or reject",
        requested + WINDOW,
    )
    await time_skipping_env.sleep(timedelta(hours=23, minutes=59))

    view = await send_update(
        client, order.order_id, UPDATE_APPROVE, Approve(approver="alice", comment="ok")
    )

    assert view.status is OrderStatus.AWAITING_DISPATCH
    await time_skipping_env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)
    assert (await delivered(time_skipping_env, client, data_dir, placed)).status == "completed"
    assert stores.payments.net_captured(order.order_id) == order.total_cents


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


async def test_cancel_and_address_change_are_refused_after_dispatch(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, stores: ServiceStores
) -> None:
    order, placed = await dispatched(time_skipping_env, client)
    before = await order_status(client, order.order_id)

    await refused_cancel_and_readdress(client, order.order_id, OrderStatus.DISPATCHED)

    after = await order_status(client, order.order_id)
    assert (after.status, after.shipping_address) == (before.status, before.shipping_address)
    assert (await delivered(time_skipping_env, client, data_dir, placed)).status == "completed"
    assert stores.payments.net_captured(order.order_id) == order.total_cents


async def test_late_delivery_escalates_and_is_not_undone(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path, stores: ServiceStores
) -> None:
    order, placed = await dispatched(time_skipping_env, client)

    await time_skipping_env.sleep(order.timeouts.delivery_deadline + timedelta(minutes=1))

    await reach(client, order.order_id, OrderStatus.DELIVERY_LATE)
    assert NotificationKind.DELIVERY_LATE in stores.notification_kinds(order.order_id)
    await refused_cancel_and_readdress(client, order.order_id, OrderStatus.DELIVERY_LATE)
    assert stores.payments.net_captured(order.order_id) == order.total_cents
    outcome = await delivered(time_skipping_env, client, data_dir, placed)
    assert (outcome.status, outcome.delivered_late) == ("completed", True)
    assert stores.payments.net_captured(order.order_id) == order.total_cents


async def test_parcel_missing_after_14_days_is_declared_lost_and_refunded(
    time_skipping_env: WorkflowEnvironment, client: Client, stores: ServiceStores
) -> None:
    order, placed = await dispatched(time_skipping_env, client)

    outcome = await outcome_of(client, placed)  # the carrier never reports

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.LOST_IN_TRANSIT)
    assert stores.payments.net_captured(order.order_id) == 0
    shipment = stores.shipping.shipment(order.order_id)
    assert shipment is not None
    assert str(shipment.state) == "lost"


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


async def test_status_and_search_attributes_stay_current_and_hide_the_token(
    time_skipping_env: WorkflowEnvironment, client: Client, data_dir: Path
) -> None:
    order, placed = await dispatched(time_skipping_env, client)
    await delivered(time_skipping_env, client, data_dir, placed)

    view = await order_status(client, order.order_id)
    description = await client.get_workflow_handle(placed.workflow_id).describe()

    assert view.status is OrderStatus.COMPLETED
    assert (view.waiting_for, view.deadline) == (None, None)  # it waits for nothing any more
    assert TOKEN not in view.model_dump_json()
    attributes = description.typed_search_attributes
    assert attributes.get(search_attributes.ORDER_STATUS) == "completed"
    assert attributes.get(search_attributes.ORDER_STYLE) == "orchestrated"
    assert attributes.get(search_attributes.ORDER_ID) == order.order_id
    assert attributes.get(search_attributes.CUSTOMER_ID) == order.customer.id


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
