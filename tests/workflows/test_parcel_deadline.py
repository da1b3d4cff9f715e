"""The delivery deadline, as every style's shipping workflow follows a parcel (`ParcelWatch`), on
the time-skipping server: a delivery is on time when it reached the workflow within the deadline
counted from dispatch, however long the workflow was busy telling others (the dispatch, the
pickup) before it recorded the report."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.messages.shipping import CarrierEventKind, CarrierReport
from tests.support import eventually
from workflows.parcel import CarrierReports, ParcelWatch

ORDER_ID = "order-deadline"
TRACKING_NUMBER = "TRK-DEADLINE"
DEADLINE = timedelta(days=1)


@workflow.defn(sandboxed=False)
class SlowToTell(CarrierReports):
    """Follows a parcel as the shipping workflows do (`LEAN_HISTORY`), with a pause where they
    tell others: after the dispatch, and at the pickup (a slow announcement, a busy worker)."""

    def __init__(self) -> None:
        self._parcel = ParcelWatch(ORDER_ID)
        self._telling_pickup = False

    @workflow.run
    async def run(self, after_dispatch: timedelta, at_pickup: timedelta) -> bool:
        self._parcel.tracking_number = TRACKING_NUMBER
        self._parcel.lean = True
        self._parcel.dispatched()
        if after_dispatch:
            await workflow.sleep(after_dispatch)

        async def picked_up(report: CarrierReport) -> None:
            self._telling_pickup = True
            await workflow.sleep(at_pickup)

        return await self._parcel.follow(DEADLINE, picked_up)

    @workflow.query
    def telling_pickup(self) -> bool:
        return self._telling_pickup


@activity.defn(name="record_carrier_event")
async def record_carrier_event(report: CarrierReport) -> None:
    """The shipping store's record, replaced: these tests judge the deadline only."""


def report(kind: CarrierEventKind) -> CarrierReport:
    return CarrierReport(
        order_id=ORDER_ID,
        tracking_number=TRACKING_NUMBER,
        kind=kind,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
async def worker(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[str]:
    task_queue = f"deadline-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[SlowToTell],
        activities=[record_carrier_event],
    ):
        yield task_queue


async def follow(
    env: WorkflowEnvironment, task_queue: str, after_dispatch: timedelta, at_pickup: timedelta
) -> WorkflowHandle[SlowToTell, bool]:
    return await env.client.start_workflow(
        SlowToTell.run,
        args=[after_dispatch, at_pickup],
        id=f"shipment-{uuid.uuid4()}",
        task_queue=task_queue,
    )


async def telling_pickup(handle: WorkflowHandle[SlowToTell, bool]) -> None:
    await handle.signal(SlowToTell.picked_up, report(CarrierEventKind.PICKED_UP))
    await eventually(
        lambda: handle.query(SlowToTell.telling_pickup), bool, what="the pickup being told"
    )


async def test_a_delivery_after_the_deadline_is_late_though_recorded_with_the_pickup(
    time_skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await follow(time_skipping_env, worker, timedelta(0), at_pickup=2 * DEADLINE)
    await telling_pickup(handle)
    await time_skipping_env.sleep(1.5 * DEADLINE)
    await handle.signal(SlowToTell.delivered, report(CarrierEventKind.DELIVERED))

    assert await handle.result() is False


async def test_the_deadline_counts_from_dispatch_not_from_when_following_starts(
    time_skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await follow(time_skipping_env, worker, 2 * DEADLINE, at_pickup=timedelta(0))
    await time_skipping_env.sleep(1.5 * DEADLINE)
    await handle.signal(SlowToTell.picked_up, report(CarrierEventKind.PICKED_UP))
    await handle.signal(SlowToTell.delivered, report(CarrierEventKind.DELIVERED))

    assert await handle.result() is False


async def test_a_delivery_within_the_deadline_is_on_time_though_recorded_after_it(
    time_skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await follow(time_skipping_env, worker, timedelta(0), at_pickup=2 * DEADLINE)
    await telling_pickup(handle)
    await handle.signal(SlowToTell.delivered, report(CarrierEventKind.DELIVERED))

    assert await handle.result() is True
