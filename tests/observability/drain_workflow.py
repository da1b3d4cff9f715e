"""A workflow that puts one shipping activity in flight on the `shipping` task queue, so a test
can stop the worker process serving it mid-activity. One attempt only: a drain that loses the
activity fails the workflow instead of hiding behind a retry.

Beside it, what a test needs to drive it: the worker of the workflow itself (in the test's
process; the booking runs in the worker process under test) and a booking put in flight."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from temporalio.api.enums.v1 import PendingActivityState
    from temporalio.client import Client, WorkflowHandle
    from temporalio.worker import Worker

    from domain.messages.shipping import BookingResult, BookShipment
    from infra.sandbox import workflow_runner
    from tests.support import ADDRESS

TASK_QUEUE = "observability-drain"
STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


@workflow.defn
class BookOneShipment:
    @workflow.run
    async def run(self, request: BookShipment) -> BookingResult:
        result: BookingResult = await workflow.execute_activity(
            "book_shipment",
            request,
            task_queue="shipping",
            result_type=BookingResult,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


def booking_worker(client: Client) -> Worker:
    """The worker of `BookOneShipment` itself; the booking needs a shipping worker besides."""
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BookOneShipment],
        workflow_runner=workflow_runner(),
    )


async def booking_state(handle: WorkflowHandle[Any, Any]) -> int | None:
    """Where the booking activity stands (a `PendingActivityState`), None once it is over."""
    pending = (await handle.describe()).raw_description.pending_activities
    return pending[0].state if pending else None


async def booking_in_flight(
    client: Client, latency: timedelta, within: float = 20.0
) -> WorkflowHandle[BookOneShipment, BookingResult]:
    """A booking that waits `latency` for the carrier, once a shipping worker has started it."""
    order_id = f"drain-{uuid.uuid4().hex[:8]}"
    request = BookShipment(
        order_id=order_id, address=ADDRESS, parcels=1, simulate_booking_latency=latency
    )
    handle = await client.start_workflow(
        BookOneShipment.run, request, id=f"observability-{order_id}", task_queue=TASK_QUEUE
    )
    try:
        async with asyncio.timeout(within):
            while True:
                if await booking_state(handle) == STARTED:
                    return handle
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"no shipping worker started the booking within {within} s") from None
