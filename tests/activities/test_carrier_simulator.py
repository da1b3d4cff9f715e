"""The simulated carrier against a real Temporal dev server: its reports arrive as signals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.faults import CarrierBehaviour
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from stores.shipping import OutboxState, ShippingStore
from workers.carrier_simulator import CarrierSimulator

ADDRESS = "Ada Lovelace, 1 Analytical Way, 10115 Berlin, DE"


@workflow.defn(sandboxed=False)
class ParcelWatcher:
    """Waits for the carrier's delivery report, like the shipment workflow does."""

    def __init__(self) -> None:
        self._reports: list[CarrierReport] = []

    @workflow.signal
    def picked_up(self, report: CarrierReport) -> None:
        self._reports.append(report)

    @workflow.signal
    def delivered(self, report: CarrierReport) -> None:
        self._reports.append(report)

    @workflow.run
    async def run(self) -> list[CarrierReport]:
        await workflow.wait_condition(
            lambda: any(r.kind is CarrierEventKind.DELIVERED for r in self._reports)
        )
        return self._reports


@workflow.defn(sandboxed=False)
class AlreadyDone:
    @workflow.run
    async def run(self) -> None:
        return None


@pytest.fixture
def env(dev_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The session's dev server (tests/conftest.py): a real server, as the carrier meets it."""
    return dev_env


@pytest.fixture
def store(tmp_path: Path) -> ShippingStore:
    return ShippingStore(tmp_path / "shipping.sqlite3")


def dispatch(store: ShippingStore, workflow_id: str, carrier: CarrierBehaviour) -> str:
    store.book("order-1", ADDRESS, 1)
    return store.dispatch(
        "order-1", CarrierSignals(workflow_id=workflow_id), carrier
    ).tracking_number


async def test_reports_reach_the_waiting_workflow_in_order(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    task_queue = f"carrier-{uuid.uuid4()}"
    workflow_id = f"shipment-{uuid.uuid4()}"
    prompt = CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(milliseconds=300))
    async with Worker(env.client, task_queue=task_queue, workflows=[ParcelWatcher]):
        handle = await env.client.start_workflow(
            ParcelWatcher.run, id=workflow_id, task_queue=task_queue
        )
        tracking = dispatch(store, workflow_id, prompt)
        simulator = CarrierSimulator(env.client, store, poll_interval=timedelta(milliseconds=50))
        running = asyncio.create_task(simulator.run())
        try:
            reports = await asyncio.wait_for(handle.result(), timeout=15)
        finally:
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
    assert [(r.kind, r.tracking_number) for r in reports] == [
        (CarrierEventKind.PICKED_UP, tracking),
        (CarrierEventKind.DELIVERED, tracking),
    ]
    assert reports[1].at - reports[0].at == timedelta(milliseconds=300)
    assert {r.state for r in store.reports("order-1")} == {OutboxState.SENT}


async def test_a_report_for_a_missing_workflow_is_undeliverable(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    dispatch(store, f"no-such-{uuid.uuid4()}", CarrierBehaviour(pickup_after=timedelta(0)))
    await CarrierSimulator(env.client, store).deliver_due()
    (pickup, delivery) = store.reports("order-1")
    assert pickup.state is OutboxState.UNDELIVERABLE
    assert pickup.last_error is not None
    assert "not found" in pickup.last_error
    assert delivery.state is OutboxState.PENDING  # not due yet


async def test_a_report_for_a_completed_workflow_is_undeliverable(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    task_queue = f"carrier-{uuid.uuid4()}"
    workflow_id = f"done-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[AlreadyDone]):
        await env.client.execute_workflow(AlreadyDone.run, id=workflow_id, task_queue=task_queue)
    dispatch(store, workflow_id, CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))
    await CarrierSimulator(env.client, store).deliver_due()
    (pickup,) = store.reports("order-1")
    assert pickup.state is OutboxState.UNDELIVERABLE
    assert pickup.last_error is not None
    assert "completed" in pickup.last_error


class _Unreachable:
    """A client whose every signal fails the way an unreachable server does."""

    def __init__(self) -> None:
        self.calls = 0

    def get_workflow_handle(self, workflow_id: str) -> _Unreachable:
        return self

    async def signal(self, name: str, arg: object) -> None:
        self.calls += 1
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")


async def test_other_failures_are_retried_a_bounded_number_of_times(store: ShippingStore) -> None:
    dispatch(store, "wf-1", CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))
    client = _Unreachable()
    simulator = CarrierSimulator(
        cast(Client, client), store, max_attempts=3, retry_after=timedelta(0)
    )
    for _ in range(5):
        await simulator.deliver_due()
    (pickup,) = store.reports("order-1")
    assert client.calls == 3
    assert (pickup.state, pickup.attempts) == (OutboxState.UNDELIVERABLE, 3)
    assert pickup.last_error == "UNAVAILABLE: connection refused"
