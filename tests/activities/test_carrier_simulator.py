"""The simulated carrier against real Temporal servers: its reports arrive as signals on the
session's dev server, and with the server refusing connections or stopped, a report is retried
a bounded number of times and set aside with the client's own error."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.faults import CarrierBehaviour
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from infra.dev_server import start_dev_server
from stores.shipping import OutboxState, ShippingStore
from tests.support import eventually
from workers.carrier_simulator import CarrierSimulator

pytestmark = pytest.mark.timeout(30)

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
            # marked sent just after each signal: the workflow may have its result first
            await eventually(
                lambda: asyncio.to_thread(store.reports, "order-1"),
                lambda outbox: {r.state for r in outbox} == {OutboxState.SENT},
                what="both reports marked sent",
            )
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


AN_HOUR = timedelta(hours=1)
"""The simulator's longest sleep in these tests: a report that waited for it would never come."""


@contextlib.asynccontextmanager
async def watcher(env: WorkflowEnvironment) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """A workflow waiting for a parcel's reports, as the shipment does."""
    task_queue = f"carrier-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ParcelWatcher]):
        yield await env.client.start_workflow(
            ParcelWatcher.run, id=f"shipment-{uuid.uuid4()}", task_queue=task_queue
        )


@contextlib.asynccontextmanager
async def running(simulator: CarrierSimulator) -> AsyncIterator[None]:
    task = asyncio.create_task(simulator.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_dispatch_wakes_the_carrier_without_waiting_for_its_next_look(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    simulator = CarrierSimulator(env.client, store, poll_interval=AN_HOUR)
    prompt = CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(0))
    async with watcher(env) as handle, running(simulator):
        await asyncio.sleep(0.2)  # it has looked once, found nothing, and sleeps
        dispatch(store, handle.id, prompt)
        simulator.wake()  # as the shipping activity does once its dispatch is written
        reports = await asyncio.wait_for(handle.result(), timeout=15)

    assert [r.kind for r in reports] == [CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED]


async def test_a_report_is_sent_when_it_falls_due_not_at_the_next_look(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    """Reports due in a second, written before the simulator's first look: it sleeps until the
    earliest is due, not for its whole `poll_interval`."""
    simulator = CarrierSimulator(env.client, store, poll_interval=AN_HOUR)
    soon = CarrierBehaviour(pickup_after=timedelta(seconds=1), deliver_after=timedelta(seconds=1))
    async with watcher(env) as handle:
        dispatch(store, handle.id, soon)
        async with running(simulator):
            reports = await asyncio.wait_for(handle.result(), timeout=15)

    assert [r.kind for r in reports] == [CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED]


async def test_a_report_for_a_missing_workflow_is_undeliverable(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    workflow_id = f"no-such-{uuid.uuid4()}"
    in_an_hour = CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(hours=1))
    dispatch(store, workflow_id, in_an_hour)

    attempted = await CarrierSimulator(env.client, store).deliver_due()

    (pickup, delivery) = store.reports("order-1")
    assert attempted == 1
    assert (pickup.state, pickup.attempts) == (OutboxState.UNDELIVERABLE, 1)
    assert pickup.last_error == f"workflow {workflow_id}: workflow not found for ID: {workflow_id}"
    assert (delivery.state, delivery.attempts) == (OutboxState.PENDING, 0)  # due in an hour


async def test_a_report_for_a_completed_workflow_is_undeliverable(
    env: WorkflowEnvironment, store: ShippingStore
) -> None:
    task_queue = f"carrier-{uuid.uuid4()}"
    workflow_id = f"done-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[AlreadyDone]):
        await env.client.execute_workflow(AlreadyDone.run, id=workflow_id, task_queue=task_queue)
    dispatch(store, workflow_id, CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))

    attempted = await CarrierSimulator(env.client, store).deliver_due()

    (pickup,) = store.reports("order-1")
    assert attempted == 1
    assert (pickup.state, pickup.attempts) == (OutboxState.UNDELIVERABLE, 1)
    assert pickup.last_error == f"workflow {workflow_id}: workflow execution already completed"


def refused_port() -> int:
    """A port nothing listens on: the kernel's pick, released at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def rounds(simulator: CarrierSimulator, count: int) -> list[int]:
    """`count` rounds of delivery, one after the other: how many reports each attempted."""
    return [await simulator.deliver_due() for _ in range(count)]


async def test_a_report_to_a_server_refusing_connections_is_retried_a_bounded_number_of_times(
    store: ShippingStore,
) -> None:
    """A real client that has not connected yet (`lazy`), to a port nobody listens on: every
    signal fails to connect, as the carrier's would with the server down at start-up."""
    port = refused_port()
    client = await Client.connect(
        f"127.0.0.1:{port}", lazy=True, data_converter=pydantic_data_converter
    )
    dispatch(store, "wf-1", CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))
    simulator = CarrierSimulator(client, store, max_attempts=3, retry_after=timedelta(0))

    attempted = await rounds(simulator, 5)

    (pickup,) = store.reports("order-1")
    assert attempted == [1, 1, 1, 0, 0]
    assert (pickup.state, pickup.attempts) == (OutboxState.UNDELIVERABLE, 3)
    assert pickup.last_error == (
        "RuntimeError: Failed client connect: Server connection error: "
        'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", '
        f'127.0.0.1:{port}, Os {{ code: 111, kind: ConnectionRefused, message: "Connection '
        'refused" })))'
    )


@pytest.mark.timeout(60)
@pytest.mark.timeout(60)
async def test_a_report_to_a_server_that_has_stopped_is_set_aside_when_its_attempts_are_spent(
    store: ShippingStore,
) -> None:
    """A client that was connected to a dev server since stopped: the signal fails as
    UNAVAILABLE once the client's own retries are spent (a tenth of a second of them here, not
    the default's 8 s); the report is tried again on the next round, and set aside once its
    attempts are spent."""
    server = await start_dev_server(port=None, ui_port=None, ui=False)
    client = await Client.connect(
        server.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
        retry_config=RetryConfig(max_retries=2, initial_interval_millis=50),
    )
    assert (await client.count_workflows()).count == 0  # connected, and answered
    await server.shutdown()
    dispatch(store, "wf-1", CarrierBehaviour(pickup_after=timedelta(0), deliver_after=None))
    simulator = CarrierSimulator(client, store, max_attempts=2, retry_after=timedelta(0))

    attempted = await rounds(simulator, 3)

    (pickup,) = store.reports("order-1")
    assert attempted == [1, 1, 0]
    assert (pickup.state, pickup.attempts) == (OutboxState.UNDELIVERABLE, 2)
    assert pickup.last_error == "UNAVAILABLE: tcp connect error"
