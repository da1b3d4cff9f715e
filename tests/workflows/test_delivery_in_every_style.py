"""The parcel's journey after dispatch, the same in every style, on the time-skipping server with
real workers, real stores and the real timeouts (2 h handling, 5 day delivery deadline, 14 days
before a parcel counts as lost): once the parcel has left, the customer can no longer cancel or
re-address it; delivered, on time or late, the order completes charged once with its stock
consumed; never delivered, it is declared lost, refunded and cancelled. Every workflow of the
order ends completed, and the audit finds the stores clean. What only one style shows (the
shipment child's signals, the warehouse's events, the participants' records) is in that style's
own tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import order_status, place_order, send_update
from domain import search_attributes
from domain.commands import UPDATE_APPROVE, Approve
from domain.faults import CarrierBehaviour, Faults
from domain.messages.notifications import NotificationKind
from domain.order import Order
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from domain.views import OrderOutcome
from stores.inventory import ReservationState
from stores.payments import LedgerKind, PaymentState
from stores.shipping import ShipmentState
from tests.service_stores import ServiceStores
from tests.support import (
    LARGE_ORDER,
    SLACK,
    TOKEN,
    WINDOW,
    at_rest,
    eventually,
    make_order,
    outcome_of,
    reach,
)
from tests.workflows.moves import (
    STYLES,
    carrier_delivers,
    carrier_picks_up,
    dispatched_in,
    ended_cleanly,
    refused_cancel_and_readdress,
)


def assert_completed_charged_once(
    stores: ServiceStores, order: Order, outcome: OrderOutcome, *, late: bool
) -> None:
    """Completed (`late` or on time), its total captured once and never refunded, every unit
    of its stock consumed (none held any more)."""
    assert (outcome.status, outcome.reason, outcome.delivered_late) == ("completed", None, late)
    assert stores.payments.net_captured(order.order_id) == order.total_cents
    assert stores.ledger(order.order_id) == [LedgerKind.AUTHORIZE, LedgerKind.CAPTURE]
    assert stores.reservation_states(order.order_id) == {ReservationState.CONSUMED}
    assert set(stores.reserved_units(order).values()) == {0}


@STYLES
async def test_a_parcel_that_left_cannot_be_called_back_and_its_delivery_completes_the_order(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
) -> None:
    order = make_order()
    placed = await dispatched_in(time_skipping_env, client, order, style)
    before = await at_rest(client, order.order_id)  # the capture, the stock, the notice: done

    await refused_cancel_and_readdress(client, order.order_id, OrderStatus.DISPATCHED)
    after = await order_status(client, order.order_id)
    assert (after.status, after.shipping_address, after.timeline) == (
        before.status,
        before.shipping_address,
        before.timeline,
    )
    await carrier_picks_up(time_skipping_env, client, data_dir, order)
    await refused_cancel_and_readdress(client, order.order_id, OrderStatus.IN_TRANSIT)
    await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
    outcome = await outcome_of(client, placed)

    assert_completed_charged_once(stores, order, outcome, late=False)
    shipment = stores.shipping.shipment(order.order_id)
    assert shipment is not None
    assert (shipment.state, shipment.address_line) == (
        ShipmentState.DELIVERED,
        order.shipping_address.one_line(),
    )
    assert stores.notification_kinds(order.order_id) == {
        NotificationKind.ORDER_RECEIVED,
        NotificationKind.ORDER_DISPATCHED,
        NotificationKind.ORDER_DELIVERED,
    }
    record = stores.orders.order(order.order_id)
    assert record is not None
    assert record.outcome is not None
    assert record.outcome.status == "completed"
    view = await order_status(client, order.order_id)
    assert (view.status, view.waiting_for, view.deadline) == (OrderStatus.COMPLETED, None, None)
    assert TOKEN not in view.model_dump_json()
    attributes = (
        await client.get_workflow_handle(placed.workflow_id).describe()
    ).typed_search_attributes
    assert attributes.get(search_attributes.ORDER_STATUS) == "completed"
    assert attributes.get(search_attributes.ORDER_STYLE) == style.value
    assert attributes.get(search_attributes.ORDER_ID) == order.order_id
    assert attributes.get(search_attributes.CUSTOMER_ID) == order.customer.id
    await ended_cleanly(client, data_dir, style, order.order_id)


@STYLES
async def test_an_approval_late_in_the_window_still_ships_and_charges_once(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
) -> None:
    order = make_order(items=LARGE_ORDER)
    placed = await place_order(client, order, style)
    waiting = await reach(client, order.order_id, OrderStatus.AWAITING_APPROVAL)
    requested = next(e.at for e in waiting.timeline if e.what == "approval requested")
    assert (waiting.waiting_for, waiting.deadline) == (
        "a person to approve or reject",
        requested + WINDOW,
    )
    await time_skipping_env.sleep(WINDOW - timedelta(minutes=1))

    view = await send_update(
        client, order.order_id, UPDATE_APPROVE, Approve(approver="alice", comment="ok")
    )

    assert view.status is OrderStatus.AWAITING_DISPATCH
    await time_skipping_env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)
    await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
    assert_completed_charged_once(stores, order, await outcome_of(client, placed), late=False)
    assert NotificationKind.APPROVAL_REQUESTED in stores.notification_kinds(order.order_id)
    await ended_cleanly(client, data_dir, style, order.order_id)


@STYLES
async def test_a_late_delivery_is_escalated_once_is_not_undone_and_still_completes(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
) -> None:
    order = make_order()
    placed = await dispatched_in(time_skipping_env, client, order, style)
    await carrier_picks_up(time_skipping_env, client, data_dir, order)

    await time_skipping_env.sleep(order.timeouts.delivery_deadline)
    late = await reach(client, order.order_id, OrderStatus.DELIVERY_LATE)

    assert late.timeline[-1].what == "shipment late"

    # The status turns late when the order hears of it; the customer is told in a step of its own.
    async def told() -> set[NotificationKind]:
        return stores.notification_kinds(order.order_id)

    await eventually(
        told,
        lambda kinds: NotificationKind.DELIVERY_LATE in kinds,
        what="the customer is told the delivery is late",
    )
    await refused_cancel_and_readdress(client, order.order_id, OrderStatus.DELIVERY_LATE)
    assert stores.payments.net_captured(order.order_id) == order.total_cents
    await carrier_delivers(time_skipping_env, client, data_dir, order.order_id)
    assert_completed_charged_once(stores, order, await outcome_of(client, placed), late=True)
    assert stores.notifications_of(order.order_id, NotificationKind.DELIVERY_LATE) == 1
    await ended_cleanly(client, data_dir, style, order.order_id)


@STYLES
async def test_a_parcel_still_missing_after_14_days_is_lost_refunded_and_cancelled(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    stores: ServiceStores,
    style: Style,
) -> None:
    order = make_order(faults=Faults(carrier=CarrierBehaviour(deliver_after=None)))
    placed = await dispatched_in(time_skipping_env, client, order, style)
    await carrier_picks_up(time_skipping_env, client, data_dir, order)

    outcome = await outcome_of(client, placed)  # the carrier never reports again

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.LOST_IN_TRANSIT)
    assert stores.payments.net_captured(order.order_id) == 0
    assert stores.ledger(order.order_id) == [
        LedgerKind.AUTHORIZE,
        LedgerKind.CAPTURE,
        LedgerKind.REFUND,
    ]
    payment = stores.payments.payment(order.order_id)
    assert payment is not None
    assert payment.state is PaymentState.REFUNDED
    assert stores.reservation_states(order.order_id) == {ReservationState.CONSUMED}
    shipment = stores.shipping.shipment(order.order_id)
    assert shipment is not None
    assert shipment.state is ShipmentState.LOST
    view = await order_status(client, order.order_id)
    lost_at = next(e.at for e in view.timeline if e.what == "cancelled: lost_in_transit")
    dispatched_at = next(e.at for e in view.timeline if e.what == "shipment dispatched")
    lost_after = order.timeouts.lost_after
    assert lost_after <= lost_at - dispatched_at < lost_after + SLACK
    assert stores.notifications_of(order.order_id, NotificationKind.DELIVERY_LATE) == 1
    await ended_cleanly(client, data_dir, style, order.order_id)
