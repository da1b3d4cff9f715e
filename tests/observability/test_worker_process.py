"""`python -m workers.run` as an operator runs it: the one-line report at start, the metrics
endpoint, and a bounded shutdown on SIGTERM that lets an activity in flight finish (or cancels it
when it outlasts the drain)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.messages.shipping import BookingResult, BookShipment
from infra.sandbox import workflow_runner
from tests.conftest import namespace_client
from tests.observability.drain_workflow import TASK_QUEUE, BookOneShipment
from tests.support import ADDRESS, start_module, user_env
from workers.pool import DRAIN_TIMEOUT, SHUTDOWN_GRACE

NAMESPACE = "default"
BOUND = (DRAIN_TIMEOUT + SHUTDOWN_GRACE).total_seconds()


@dataclass
class Setup:
    client: Client
    env: dict[str, str]


@pytest.fixture(scope="module")
async def setup(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir = tmp_path_factory.mktemp("worker-process-data")
    env = user_env(client.service_client.config.target_host, NAMESPACE, data_dir)
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BookOneShipment],
        workflow_runner=workflow_runner(),
    ):
        yield Setup(client, env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def start_worker(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await start_module(env, "workers.run", *args)


async def line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 30)).decode().rstrip("\n")


async def stop(process: asyncio.subprocess.Process) -> tuple[float, str, str]:
    """SIGTERM; how long until the process was gone, and what it wrote after."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(process.communicate(), BOUND + 10)
    return time.monotonic() - started, stdout.decode(), stderr.decode()


async def test_a_worker_reports_what_it_serves_in_one_line_and_serves_metrics(
    setup: Setup,
) -> None:
    port = free_port()
    process = await start_worker(
        {**setup.env, "ORDERS_METRICS_PORT": str(port)}, "--service", "payments"
    )
    first = await line(process)
    second = await line(process)
    await asyncio.sleep(1)  # the pollers start
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    )
    seconds, rest, stderr = await stop(process)

    address = setup.env["TEMPORAL_ADDRESS"]
    assert first == f"worker payments: task queue payments, namespace default, server {address}"
    assert second == f"metrics at http://localhost:{port}/metrics"
    assert b"temporal_worker_start{" in body, body[:500]
    assert b'task_queue="payments"' in body
    assert process.returncode == 0, stderr
    assert seconds < BOUND
    assert "stopped: every worker has shut down" in rest
    assert "order_id" not in stderr  # text format by default


async def booking_in_flight(client: Client, latency: timedelta) -> str:
    order_id = f"drain-{uuid.uuid4().hex[:8]}"
    request = BookShipment(
        order_id=order_id, address=ADDRESS, parcels=1, simulate_booking_latency=latency
    )
    handle = await client.start_workflow(
        BookOneShipment.run, request, id=f"observability-{order_id}", task_queue=TASK_QUEUE
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pending = (await handle.describe()).raw_description.pending_activities
        if pending and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED:
            return handle.id
        await asyncio.sleep(0.1)
    raise AssertionError("the booking never started")


async def test_sigterm_lets_the_activity_in_flight_finish_then_exits_0(setup: Setup) -> None:
    process = await start_worker(setup.env, "--service", "shipping", "--drain-timeout", "10")
    assert (await line(process)).startswith("worker shipping: task queue shipping,")
    workflow_id = await booking_in_flight(setup.client, timedelta(seconds=3))
    seconds, rest, stderr = await stop(process)

    handle = setup.client.get_workflow_handle(workflow_id, result_type=BookingResult)
    booking: BookingResult = await handle.result()
    assert booking.order_id == workflow_id.removeprefix("observability-")
    assert process.returncode == 0, stderr
    assert seconds < 10, "waited for the whole drain, not for the activity"
    assert "draining in-flight tasks" in rest


async def test_an_activity_outlasting_the_drain_is_cancelled_and_the_exit_is_bounded(
    setup: Setup,
) -> None:
    drain = 1.0
    process = await start_worker(setup.env, "--service", "shipping", "--drain-timeout", str(drain))
    await line(process)
    workflow_id = await booking_in_flight(setup.client, timedelta(seconds=60))
    seconds, _, stderr = await stop(process)

    assert process.returncode == 0, stderr
    assert seconds < drain + SHUTDOWN_GRACE.total_seconds()
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(setup.client.get_workflow_handle(workflow_id).result(), 30)


async def test_a_bad_metrics_port_is_a_one_line_error(setup: Setup) -> None:
    process = await start_worker({**setup.env, "ORDERS_METRICS_PORT": "http"})
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stderr.decode().strip().splitlines() == [
        "python -m workers.run: error: ORDERS_METRICS_PORT: not a port number (got 'http')"
    ]
