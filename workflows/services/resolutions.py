"""A compensation a person undid by hand, put on record by the service whose compensation it
is (inventory or payments run the same activity, each on its own task queue)."""

from __future__ import annotations

from temporalio import workflow

from domain.messages.resolution import Compensation, RecordResolvedByHand
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.compensations import RECORD_RESOLVED_BY_HAND


async def record_resolved_by_hand(
    order_id: str, compensation: Compensation, resolved_by: str, note: str
) -> None:
    resolved = RecordResolvedByHand(
        order_id=order_id,
        compensation=compensation,
        resolved_by=resolved_by,
        note=note,
        at=workflow.now(),
    )
    await call(
        RECORD_RESOLVED_BY_HAND[compensation.service],
        resolved,
        policy=UNTIL_DONE,
        summary=f"record: {compensation.what}, done by hand",
    )
