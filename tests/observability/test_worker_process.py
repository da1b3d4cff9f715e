"""`python -m workers.run` as an operator runs it: the one-line report at start, the metrics
endpoint, and a bounded shutdown on SIGTERM that lets an activity in flight finish (or cancels it
when it outlasts the drain).

No test here times the process. Each shutdown gets a drain timeout and a wait chosen so that only
the behaviour under test fits: a worker that waited for its whole drain, or for an activity it
should have cancelled, would still be running when the wait gives up."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import WorkflowEnvironment

from tests.conftest import namespace_client
from tests.observability.drain_workflow import (
    STARTED,
    booking_in_flight,
    booking_state,
    booking_worker,
)
from tests.support import Result, free_port, start_module, user_env
from workers.deployment import label, worker_version

NAMESPACE = "default"
LONG_DRAIN = "600"
"""A drain timeout no test waits for: a worker that sat out its whole drain fails the test."""
EXIT_WAIT = 60.0
"""How long a test waits for a stopped worker to exit: far less than LONG_DRAIN."""
SHORT_EXIT_WAIT = 30.0
"""The wait when the booking in flight must be cancelled: shorter than its start-to-close
timeout (60 s), so that only the drain's cancellation, not the server's timeout, ends it in
time."""


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
    async with booking_worker(client):
        yield Setup(client, env)


@contextlib.asynccontextmanager
async def worker_process(
    env: dict[str, str], *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m workers.run *args`, killed at the end if a failed test left it running."""
    process = await start_module(env, "workers.run", *args)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def start_line(service: str, setup: Setup) -> str:
    address = setup.env["TEMPORAL_ADDRESS"]
    return f"worker {service}: task queue {service}, namespace {NAMESPACE}, server {address}"


def stop_lines(drain: str) -> list[str]:
    """What a worker prints from the first signal to its exit, when the drain goes well."""
    return [
        f"stopping: draining in-flight tasks (up to {drain} s)...",
        "stopped: every worker has shut down",
    ]


def is_routing_line(text: str) -> bool:
    """The line a versioned worker prints once it polls: its build, current (the first build of
    the module's namespace is made current; the next processes find it so)."""
    build = label(worker_version())
    return text in (
        f"build {build}: made current (the deployment had none): new orders come here",
        f"build {build}: current: new orders come here",
    )


async def line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 30)).decode().rstrip("\n")


async def exited(process: asyncio.subprocess.Process, within: float = EXIT_WAIT) -> Result:
    """The exit code and what the process wrote since, once it has exited by itself within
    `within` seconds."""
    stdout, stderr = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


async def stop(process: asyncio.subprocess.Process, within: float = EXIT_WAIT) -> Result:
    """SIGTERM, then how the process exited by itself within `within` seconds."""
    process.send_signal(signal.SIGTERM)
    return await exited(process, within)


async def pollers(client: Client, task_queue: str, kind: TaskQueueType.ValueType) -> set[str]:
    """The identities the server has seen polling this task queue for this kind of task."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=kind,
        )
    )
    return {poller.identity for poller in described.pollers}


async def until_polled(client: Client, task_queue: str, identity: str, within: float = 30) -> None:
    """Until the worker `identity` polls `task_queue` for workflow and for activity tasks."""
    kinds = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
    async with asyncio.timeout(within):
        while True:
            if all([identity in await pollers(client, task_queue, kind) for kind in kinds]):
                return
            await asyncio.sleep(0.1)


def worker_identity(service: str, process: asyncio.subprocess.Process) -> str:
    """What `workers.pool.build_worker` names a worker: its service and its client's identity,
    the SDK's default `<pid>@<host>`."""
    return f"{service}-worker@{process.pid}@{socket.gethostname()}"


def scrape(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body: bytes = response.read()
        return body


@pytest.mark.timeout(EXIT_WAIT + 30)
async def test_a_worker_reports_what_it_serves_in_one_line_and_serves_metrics(
    setup: Setup,
) -> None:
    port = free_port()
    env = {**setup.env, "ORDERS_METRICS_PORT": str(port)}
    async with worker_process(env, "--service", "payments", "--drain-timeout", "10") as process:
        first = await line(process)
        second = await line(process)
        third = await line(process)
        await until_polled(setup.client, "payments", worker_identity("payments", process))
        metrics = (await asyncio.to_thread(scrape, port)).decode().splitlines()
        result = await stop(process)

    assert first == start_line("payments", setup)
    assert second == f"metrics at http://localhost:{port}/metrics"
    assert is_routing_line(third)
    started_one = (
        'temporal_worker_start{namespace="default",service_name="temporal-core-sdk",'
        'task_queue="payments"} 1'
    )
    assert started_one in metrics, [m for m in metrics if "worker_start" in m]
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == stop_lines("10")
    assert "order_id" not in result.stderr  # text format by default


@pytest.mark.timeout(EXIT_WAIT + 30)
async def test_sigterm_with_nothing_in_flight_exits_0_without_waiting_for_the_drain(
    setup: Setup,
) -> None:
    args = ("--service", "payments", "--drain-timeout", LONG_DRAIN)
    async with worker_process(setup.env, *args) as process:
        assert await line(process) == start_line("payments", setup)
        assert is_routing_line(await line(process))
        await until_polled(setup.client, "payments", worker_identity("payments", process))

        result = await stop(process)

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == stop_lines(LONG_DRAIN)


@pytest.mark.timeout(EXIT_WAIT + 30)
async def test_sigterm_lets_the_activity_in_flight_finish_then_exits_0(setup: Setup) -> None:
    """The drain ends when the activity does, not when the drain timeout says."""
    args = ("--service", "shipping", "--drain-timeout", LONG_DRAIN)
    async with worker_process(setup.env, *args) as process:
        assert await line(process) == start_line("shipping", setup)
        assert is_routing_line(await line(process))
        handle = await booking_in_flight(setup.client, timedelta(seconds=5))

        process.send_signal(signal.SIGTERM)
        in_flight_at_the_signal = await booking_state(handle)
        result = await exited(process)

    assert in_flight_at_the_signal == STARTED
    booking = await asyncio.wait_for(handle.result(), 30)
    assert booking.order_id == handle.id.removeprefix("observability-")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == stop_lines(LONG_DRAIN)


@pytest.mark.timeout(EXIT_WAIT + 30)
async def test_an_activity_outlasting_the_drain_is_cancelled_and_the_exit_is_bounded(
    setup: Setup,
) -> None:
    """A one-second drain and a booking of ten minutes: the worker exits 0 long before the
    booking could end, and the workflow hears that the worker gave its booking up (one attempt
    only here; with retries left, another worker would take it)."""
    args = ("--service", "shipping", "--drain-timeout", "1")
    async with worker_process(setup.env, *args) as process:
        assert await line(process) == start_line("shipping", setup)
        assert is_routing_line(await line(process))
        handle = await booking_in_flight(setup.client, timedelta(minutes=10))

        result = await stop(process, within=SHORT_EXIT_WAIT)

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == stop_lines("1")
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), 30)
    activity = failure.value.cause
    assert isinstance(activity, ActivityError)
    assert activity.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED
    assert isinstance(activity.cause, ApplicationError)
    assert (activity.cause.type, activity.cause.message) == (
        "WorkerShutdown",
        "Worker is shutting down and this activity did not complete in time",
    )


async def test_a_bad_metrics_port_is_a_one_line_error(setup: Setup) -> None:
    async with worker_process({**setup.env, "ORDERS_METRICS_PORT": "http"}) as process:
        result = await exited(process, 30)

    assert result.code == 2
    assert result.stderr.splitlines() == [
        "python -m workers.run: error: ORDERS_METRICS_PORT: not a port number (got 'http')"
    ]
