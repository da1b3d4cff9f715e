"""Run the workers of one, several or all services in this process until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Worker

from domain.services import Service
from infra.metrics import (
    MetricsEndpoint,
    active_endpoint,
    client_on_runtime,
    start_metrics_endpoint,
)
from infra.sandbox import workflow_runner
from stores import store_location
from stores.shipping import ShippingStore
from workers.carrier_simulator import CarrierSimulator
from workers.deployment import Routing, adopt_if_unrouted, deployment_config
from workers.registry import SERVICES

DRAIN_TIMEOUT = timedelta(seconds=10)
"""On shutdown, in-flight activities get this long to finish before they are cancelled."""

CACHED_WORKFLOWS = 1000
"""Workflows a worker keeps in memory between their tasks (the SDK's default)."""

SHUTDOWN_GRACE = timedelta(seconds=5)
"""After the drain, how long cancelled activities and the workers' own teardown may take before a
process gives up waiting (`workers.run` exits anyway): the bound on a shutdown is
drain + grace."""


def build_worker(
    client: Client,
    service: Service,
    data_dir: Path,
    executor: ThreadPoolExecutor,
    drain_timeout: timedelta = DRAIN_TIMEOUT,
    sticky: bool = True,
    on_outbox_written: Callable[[], None] | None = None,
    version: WorkerDeploymentVersion | None = None,
) -> Worker:
    """The worker of one service, as its declaration says (`workers.registry`). `executor`: that
    service's own (`activity_executor`), which no other worker shares
    (`ServiceDeclaration.activity_slots`). `on_outbox_written`: see `WorkerExtras`.

    `sticky=False`: no workflow cached between tasks, so none is sticky to this worker (the
    time-skipping test server never moves a sticky task off a worker that stopped).

    `version`: the Worker Deployment version it runs as (`workers.deployment`), taking only the
    orders pinned to it and, while it is current, new ones; None: unversioned (the time-skipping
    server, which has no deployments)."""
    declaration = SERVICES[service]
    return Worker(
        client,
        task_queue=declaration.task_queue,
        workflows=list(declaration.workflows),
        activities=declaration.registered_activities(
            data_dir, on_outbox_written=on_outbox_written, version=version
        ),
        activity_executor=executor,
        max_concurrent_activities=declaration.activity_slots,
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=drain_timeout,
        max_cached_workflows=CACHED_WORKFLOWS if sticky else 0,
        identity=f"{service.value}-worker@{client.identity}",
        deployment_config=deployment_config(version) if version is not None else None,
    )


def activity_executor(service: Service) -> ThreadPoolExecutor:
    """A thread per activity slot of the service, its threads named after it (`shipping-activity_3`
    in a thread dump says whose work it is)."""
    return ThreadPoolExecutor(
        max_workers=SERVICES[service].activity_slots, thread_name_prefix=f"{service.value}-activity"
    )


@contextlib.asynccontextmanager
async def running_workers(
    client: Client,
    services: Iterable[Service],
    data_dir: Path,
    *,
    simulate_carrier: bool = True,
    metrics_port: int | None = None,
    drain_timeout: timedelta = DRAIN_TIMEOUT,
    sticky: bool = True,
    version: WorkerDeploymentVersion | None = None,
    promote: bool = False,
) -> AsyncIterator[RunningWorkers]:
    """Start the workers (and, with shipping, the simulated carrier); stop them on exit, each
    draining its in-flight activities for up to `drain_timeout`.

    With `metrics_port`, `/metrics` on that port serves the workers' SDK metrics and the business
    counters (`infra.metrics`); the workers then poll through a client on the endpoint's Runtime
    (the same client, if it was connected with `infra.client.connect(runtime=...)`). An
    endpoint already serving that port in this process is reused and left running.

    With `version`, the workers are that version of its Worker Deployment, made current if the
    deployment has none (or, with `promote`, whichever it has: the local demo's), before this
    yields, which says where new orders go (`RunningWorkers.routing`).

    Tests on the time-skipping server turn the carrier off and send its reports themselves: the
    simulated carrier keeps wall-clock time, which the server skips over.
    """
    chosen = list(dict.fromkeys(services))
    async with contextlib.AsyncExitStack() as stack:
        if metrics_port is not None:
            endpoint = _endpoint_on(metrics_port, stack)
            client = await client_on_runtime(client, endpoint.runtime)
        workers = await stack.enter_async_context(
            _workers(client, chosen, data_dir, simulate_carrier, drain_timeout, sticky, version)
        )
        routing = None
        if version is not None:
            routing = await adopt_if_unrouted(client, version, promote=promote)
        yield RunningWorkers(workers, routing)


@dataclass(frozen=True)
class RunningWorkers:
    workers: list[Worker]
    routing: Routing | None
    """Where new orders went as the versioned workers started (None: unversioned)."""


def _endpoint_on(port: int, stack: contextlib.AsyncExitStack) -> MetricsEndpoint:
    active = active_endpoint()
    if active is not None and active.port == port:
        return active
    endpoint = start_metrics_endpoint(port)
    stack.callback(endpoint.close)
    return endpoint


@contextlib.asynccontextmanager
async def _workers(
    client: Client,
    chosen: list[Service],
    data_dir: Path,
    simulate_carrier: bool,
    drain_timeout: timedelta,
    sticky: bool,
    version: WorkerDeploymentVersion | None,
) -> AsyncIterator[list[Worker]]:
    carrier = None
    if simulate_carrier and Service.SHIPPING in chosen:
        carrier = CarrierSimulator(
            client, ShippingStore(store_location(data_dir, Service.SHIPPING))
        )
    async with contextlib.AsyncExitStack() as stack:
        # Each executor is entered before its worker, so it shuts down after the worker has.
        workers = [
            build_worker(
                client,
                service,
                data_dir,
                stack.enter_context(activity_executor(service)),
                drain_timeout,
                sticky,
                on_outbox_written=carrier.wake if carrier and service is Service.SHIPPING else None,
                version=version,
            )
            for service in chosen
        ]
        for worker in workers:
            await stack.enter_async_context(worker)
        if carrier is not None:
            task = asyncio.create_task(carrier.run(), name="carrier-simulator")
            stack.push_async_callback(_cancel, task)
        yield workers


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
