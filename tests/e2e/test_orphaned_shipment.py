"""The orchestrated order's shipment outlives its parent on the dev server (a real server applies
the parent close policy; the time-skipping server keeps a child running either way): an operator
who terminates the order's workflow after dispatch does not stop the parcel being followed, and
a parcel that never arrives is still refunded."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client.input_files import new_order_id
from client.orders import place_order
from domain.messages.shipment import ShipmentResult, ShipmentStage
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style, shipment_workflow_id
from domain.status import OrderStatus
from stores.effects import effects_of
from tests.conftest import namespace_client
from tests.support import reach, result_of
from workers.pool import running_workers

pytestmark = pytest.mark.e2e
NAMESPACE = "e2e-orphan"
LOST = SCENARIOS_BY_NAME["lost_parcel"]


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> Client:
    return await namespace_client(dev_env, NAMESPACE)


async def test_a_parcel_lost_after_its_order_was_terminated_is_still_refunded(
    client: Client, tmp_path: Path
) -> None:
    order = LOST.order(new_order_id("orphan"))
    async with running_workers(client, list(Service), tmp_path):
        placed = await place_order(client, order, Style.ORCHESTRATED)
        await reach(client, order.order_id, OrderStatus.DISPATCHED)
        await client.get_workflow_handle(placed.workflow_id).terminate("operator: wrong button")

        shipment = client.get_workflow_handle(
            shipment_workflow_id(order.order_id), result_type=ShipmentResult
        )
        result = await result_of(shipment)
        status = (await shipment.describe()).status

    assert (result.stage, status) == (ShipmentStage.LOST, WorkflowExecutionStatus.COMPLETED)
    assert effects_of(tmp_path, order.order_id).payment_state in ("refunded", "voided")
