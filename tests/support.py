"""Builders and waits shared by the workflow and end-to-end tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import Client

from domain.faults import Faults
from domain.messages.shipping import CarrierEventKind, CarrierReport
from domain.order import Address, Customer, LineItem, Order, OrderTimeouts
from domain.services import Service, shipment_workflow_id
from domain.status import OrderStatus
from domain.views import OrderView
from starters.order_client import order_status
from starters.scenario_player import wait_for_status
from stores import store_path
from stores.shipping import ShippingStore

SMALL_ORDER = (
    LineItem(sku="KB-001", quantity=1, unit_price_cents=8_900),
    LineItem(sku="MS-002", quantity=2, unit_price_cents=2_900),
)
LARGE_ORDER = (LineItem(sku="WS-004", quantity=1, unit_price_cents=249_900),)
ADDRESS = Address(
    recipient="Ada Lovelace",
    line1="12 St James's Square",
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)
TOKEN = "tok_test_4242424242"


def make_order(
    *,
    items: tuple[LineItem, ...] = SMALL_ORDER,
    faults: Faults | None = None,
    timeouts: OrderTimeouts | None = None,
) -> Order:
    """An order with the real timeouts unless told otherwise."""
    return Order(
        order_id=f"test-{uuid.uuid4().hex[:10]}",
        customer=Customer(id="customer-1", email="ada@example.com"),
        items=list(items),
        shipping_address=ADDRESS,
        payment_token=TOKEN,
        timeouts=timeouts or OrderTimeouts(),
        faults=faults or Faults(),
    )


async def reach(
    client: Client, order_id: str, status: OrderStatus, within: timedelta = timedelta(seconds=30)
) -> OrderView:
    await wait_for_status(client, order_id, status, within)
    return await order_status(client, order_id)


async def carrier_reports(
    client: Client, data_dir: Path, order_id: str, at: datetime, *kinds: CarrierEventKind
) -> None:
    """Play the carrier: send its reports to the order's shipment."""
    shipment = ShippingStore(store_path(data_dir, Service.SHIPPING)).shipment(order_id)
    assert shipment is not None, f"no shipment booked for {order_id}"
    handle = client.get_workflow_handle(shipment_workflow_id(order_id))
    for kind in kinds:
        report = CarrierReport(
            order_id=order_id, tracking_number=shipment.tracking_number or "", kind=kind, at=at
        )
        await handle.signal(kind.value, report)
