"""A workflow evicted from the worker's cache while it waits: its coroutine is closed
(`GeneratorExit`), which is no failure and no cancel, and must not run the saga's undo (an
activity, outside any workflow's event loop) on its way out."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.messages.shipment import ShipmentRequest
from domain.services import Service, shipment_workflow_id
from infra.sandbox import workflow_runner
from tests.support import ADDRESS, eventually
from workflows.orchestrated.shipment import ShipmentWorkflow


@activity.defn(name="book_shipment")
async def booking_that_never_answers(request: Any) -> None:
    await asyncio.Event().wait()


@activity.defn(name="cancel_shipment")
async def cancel_shipment(request: Any) -> None:
    raise AssertionError("an evicted shipment cancelled its booking")


@pytest.fixture
def unraisable() -> Iterator[list[str]]:
    """What Python could not raise anywhere (an exception while a coroutine was closed)."""
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda raised: seen.append(repr(raised.exc_value))
    yield seen
    sys.unraisablehook = previous


def request(order_id: str) -> ShipmentRequest:
    return ShipmentRequest(
        order_id=order_id,
        customer_email="ada@example.com",
        address=ADDRESS,
        parcels=1,
        delivery_deadline=timedelta(days=5),
        lost_after=timedelta(days=14),
    )


async def test_an_evicted_shipment_leaves_quietly(
    time_skipping_env: WorkflowEnvironment, unraisable: list[str]
) -> None:
    client: Client = time_skipping_env.client
    queue = Service.SHIPPING.task_queue
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ShipmentWorkflow],
        activities=[booking_that_never_answers, cancel_shipment],
        workflow_runner=workflow_runner(),
        max_cached_workflows=1,
    ):
        for order_id in ("evicted-1", "evicted-2", "evicted-3"):
            await client.start_workflow(
                ShipmentWorkflow.run,
                request(order_id),
                id=shipment_workflow_id(order_id),
                task_queue=queue,
            )
        for order_id in ("evicted-1", "evicted-2", "evicted-3"):
            handle = client.get_workflow_handle(shipment_workflow_id(order_id))
            await eventually(
                handle.describe,
                lambda found: bool(found.raw_description.pending_activities),
                what=f"{order_id} waiting on its booking",
            )
    gc.collect()  # the evicted workflows' coroutines are closed, at the latest, here

    assert unraisable == []
