"""A workflow that puts one shipping activity in flight on the `shipping` task queue, so a test
can stop the worker process serving it mid-activity. One attempt only: a drain that loses the
activity fails the workflow instead of hiding behind a retry."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.messages.shipping import BookingResult, BookShipment

TASK_QUEUE = "observability-drain"


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
