"""The choreographed participants together, on the time-skipping server with real workers, real
SQLite stores and the real timeouts (24 h approval window, 2 h handling time): nobody is in
charge, yet every order ends with its stock and money where they belong and every participant
closed. (An order that ships ends with every participant closed and the audit clean in every
style: tests/workflows/test_delivery_in_every_style.py.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client.orders import (
    PlacedOrder,
    place_order,
    send_update,
)
from domain.commands import UPDATE_CANCEL, Cancel
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.messages.shipping import CarrierEventKind, CarrierReport
from domain.order import Order
from domain.services import Service, Style, participant_workflow_id
from domain.status import CancelReason, OrderStatus
from stores import store_path
from stores.audit import audit_stores
from stores.inventory import InventoryStore, ReservationState
from stores.payments import PaymentsStore, PaymentState
from stores.shipping import ShippingStore
from tests.choreography.events import closed_status, view_of, view_when
from tests.support import LARGE_ORDER, make_order, outcome_of, reach

COMPLETED = WorkflowExecutionStatus.COMPLETED
SERVICES_BEFORE_DISPATCH = (
    Service.ORDERS,
    Service.INVENTORY,
    Service.PAYMENTS,
    Service.NOTIFICATIONS,
)


async def place(client: Client, order: Order) -> PlacedOrder:
    placed = await place_order(client, order, Style.CHOREOGRAPHED)
    assert placed.handle is not None, "only the starter's own handle lets time skip"
    return placed


def states(inventory: InventoryStore, order: Order) -> set[ReservationState]:
    return {reservation.state for reservation in inventory.reservations(order.order_id)}


def reserved_units(inventory: InventoryStore, order: Order) -> dict[str, int]:
    return {item.sku: inventory.stock(item.sku).reserved for item in order.items}


async def participant_statuses(
    client: Client, order: Order, services: tuple[Service, ...]
) -> dict[Service, WorkflowExecutionStatus | None]:
    return {service: await closed_status(client, service, order.order_id) for service in services}


def assert_audit_clean(data_dir: Path) -> None:
    report = audit_stores(data_dir)
    assert report.violations == []
    assert report.open_orders == []


async def test_an_unanswered_approval_closes_the_participants_and_never_reaches_shipping(
    client: Client, data_dir: Path
) -> None:
    """What is undone is in tests/workflows/test_approval_window.py, for every style; here,
    what only the choreography has: each participant that took part closes, shipping never
    starts, and the audit finds the stores clean."""
    order = make_order(items=LARGE_ORDER)

    outcome = await outcome_of(client, await place(client, order))

    assert outcome.reason is CancelReason.APPROVAL_TIMEOUT
    statuses = await participant_statuses(client, order, (*SERVICES_BEFORE_DISPATCH,))
    assert statuses == dict.fromkeys(SERVICES_BEFORE_DISPATCH, COMPLETED)
    assert await closed_status(client, Service.SHIPPING, order.order_id) is None, (
        "a cancelled order must never reach shipping"
    )
    assert_audit_clean(data_dir)


async def test_customer_cancel_during_handling_time_releases_stock_and_charges_nothing(
    client: Client, data_dir: Path, inventory: InventoryStore, payments: PaymentsStore
) -> None:
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
    assert reserved_units(inventory, order) == {"KB-001": 1, "MS-002": 2}

    await send_update(
        client, order.order_id, UPDATE_CANCEL, Cancel(requested_by="customer", reason="oops")
    )
    outcome = await outcome_of(client, placed)

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert states(inventory, order) == {ReservationState.RELEASED}
    assert reserved_units(inventory, order) == {"KB-001": 0, "MS-002": 0}
    payment = payments.payment(order.order_id)
    assert payment is not None
    assert payment.state is PaymentState.VOIDED
    assert payments.net_captured(order.order_id) == 0
    assert ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order.order_id) is None
    statuses = await participant_statuses(client, order, (*SERVICES_BEFORE_DISPATCH,))
    assert statuses == dict.fromkeys(SERVICES_BEFORE_DISPATCH, COMPLETED)
    assert await closed_status(client, Service.SHIPPING, order.order_id) is None
    assert_audit_clean(data_dir)


async def test_participant_query_links_each_published_event_to_the_event_that_caused_it(
    client: Client,
) -> None:
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    orders = await view_when(client, Service.ORDERS, order.order_id, lambda v: len(v.received) >= 3)
    inventory = await view_of(client, Service.INVENTORY, order.order_id)
    payments = await view_of(client, Service.PAYMENTS, order.order_id)

    placed_event, accepted = orders.received[0], orders.published[0]
    assert (placed_event.type, placed_event.producer) == (EventType.ORDER_PLACED, Party.STOREFRONT)
    assert (accepted.type, accepted.causation_id) == (
        EventType.ORDER_ACCEPTED,
        placed_event.event_id,
    )

    assert [(r.type, r.event_id, r.note) for r in inventory.received] == [
        (EventType.ORDER_ACCEPTED, accepted.event_id, "handled")
    ]
    (reserved,) = inventory.published
    assert (reserved.type, reserved.causation_id) == (EventType.STOCK_RESERVED, accepted.event_id)
    assert reserved.note == "delivered to payments, orders"

    assert [(r.type, r.event_id, r.note) for r in payments.received] == [
        (
            EventType.ORDER_ACCEPTED,
            accepted.event_id,
            "kept the payment terms until the stock is held",
        ),
        (EventType.STOCK_RESERVED, reserved.event_id, "handled"),
    ]
    (authorized,) = payments.published
    assert (authorized.type, authorized.causation_id) == (
        EventType.PAYMENT_AUTHORIZED,
        reserved.event_id,
    )
    assert [(r.type, r.event_id) for r in orders.received[1:3]] == [
        (EventType.STOCK_RESERVED, reserved.event_id),
        (EventType.PAYMENT_AUTHORIZED, authorized.event_id),
    ]
    assert (inventory.done, payments.done, orders.done) == (False, False, False)

    await send_update(client, order.order_id, UPDATE_CANCEL, Cancel(requested_by="customer"))
    await outcome_of(client, placed)
    inventory = await view_of(client, Service.INVENTORY, order.order_id)
    orders = await view_of(client, Service.ORDERS, order.order_id)
    cancelled = next(e for e in orders.published if e.type == EventType.ORDER_CANCELLED)
    released = inventory.published[-1]
    assert inventory.received[-1].event_id == cancelled.event_id
    assert (released.type, released.causation_id) == (EventType.STOCK_RELEASED, cancelled.event_id)
    assert inventory.done


async def test_cancelling_the_orders_workflow_after_dispatch_only_goes_forward(
    time_skipping_env: WorkflowEnvironment,
    client: Client,
    data_dir: Path,
    payments: PaymentsStore,
) -> None:
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
    await time_skipping_env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)

    await client.get_workflow_handle(placed.workflow_id).cancel()
    await play_carrier(time_skipping_env, client, data_dir, order)
    async with asyncio.timeout(30):
        outcome = await outcome_of(client, placed)

    assert outcome.status == "completed"
    assert payments.net_captured(order.order_id) == order.total_cents
    assert "refund" not in [entry.kind.value for entry in payments.ledger(order.order_id)]
    assert_audit_clean(data_dir)


async def play_carrier(
    env: WorkflowEnvironment, client: Client, data_dir: Path, order: Order
) -> None:
    """The carrier reports pickup and delivery to the order's shipping participant."""
    shipment = ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order.order_id)
    assert shipment is not None, "dispatched without a booked shipment"
    handle = client.get_workflow_handle(participant_workflow_id(Service.SHIPPING, order.order_id))
    now = await env.get_current_time()
    for kind in (CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED):
        report = CarrierReport(
            order_id=order.order_id,
            tracking_number=shipment.tracking_number or "",
            kind=kind,
            at=now,
        )
        await handle.signal(kind.value, report)
