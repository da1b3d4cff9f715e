"""Builders, waits and child-process runners shared by the workflow, end-to-end and command
tests."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

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

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT_SECONDS = 60.0

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


async def settled(
    client: Client, order_id: str, quiet: timedelta = timedelta(milliseconds=500)
) -> OrderView:
    """The order once its view has stopped changing: reaching a status can come a step before
    the activities that follow it (a notification, a capture) add to the timeline, and a test
    that compares before and after must not take the before in between."""
    async with asyncio.timeout(30):
        view = await order_status(client, order_id)
        while True:
            await asyncio.sleep(quiet.total_seconds())
            again = await order_status(client, order_id)
            if again == view:
                return view
            view = again


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


async def until_dispatched(env: WorkflowEnvironment, client: Client, order: Order) -> None:
    """Let the warehouse's (real, two-hour) handling time pass and the parcel leave."""
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
    await env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)


# -- commands in child processes ------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def user_env(address: str, namespace: str, data_dir: Path) -> dict[str, str]:
    """The environment a user would export: this one without its own `TEMPORAL_*` settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}
    return {
        **env,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "ORDERS_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }


async def start_module(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """`python -m *args` in a child process from the project root, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_module(
    env: dict[str, str], *args: str, within_seconds: float = COMMAND_TIMEOUT_SECONDS
) -> Result:
    """Run `python -m *args` to its end without blocking the event loop in-process workers
    need."""
    process = await start_module(env, *args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), within_seconds)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())
