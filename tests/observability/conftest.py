"""One observed run for the package: every scenario in every style on the dev server's `default`
namespace, with the workers in this process, the metrics endpoint up and every log record
captured through `infra.logs` (JSON, down to DEBUG, so the token check sees what an operator
who turns the level up would see).

The run is shared: the metrics and the logs tests look at the same orders, and a full run takes
most of a module's time budget.
"""

from __future__ import annotations

import asyncio
import io
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES
from client.scenario_runs import ScenarioRun, run_scenarios
from domain.scenarios import SCENARIOS
from domain.services import Service
from infra import logs
from infra.metrics import business_exposition, start_metrics_endpoint
from insight.local_activities import local_activity_of
from tests.conftest import namespace_client
from tests.support import PATIENCE, eventually, existing_workflows
from workers.pool import running_workers

NAMESPACE = "default"
PAYLOADS = pydantic_data_converter.payload_converter
"""Reads an activity's result from a history as plain JSON values (no type given)."""


@dataclass(frozen=True)
class ActivityRun:
    """One activity of one order's workflow, as its history tells it."""

    order_id: str
    activity_type: str
    task_queue: str
    completed: bool
    result: Any
    """The decoded result of a completed activity (a dict, as JSON), else None."""


@dataclass(frozen=True)
class OrderRecord:
    """What the server holds of one order once the run is over: how each of its workflows
    closed, and every activity they scheduled."""

    workflows: dict[str, tuple[str, WorkflowExecutionStatus | None]]
    """workflow id -> (workflow type, status)"""
    activities: list[ActivityRun]


async def record_of(client: Client, order_id: str) -> OrderRecord:
    workflows: dict[str, tuple[str, WorkflowExecutionStatus | None]] = {}
    activities: list[ActivityRun] = []
    for workflow_id, description in (await existing_workflows(client, order_id)).items():
        workflows[workflow_id] = (description.workflow_type, description.status)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        activities += activities_in(order_id, history.events)
    return OrderRecord(workflows, activities)


def activities_in(order_id: str, events: Sequence[HistoryEvent]) -> list[ActivityRun]:
    scheduled: dict[int, tuple[str, str]] = {}
    results: dict[int, Any] = {}
    for event in events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attributes.activity_type.name, attributes.task_queue.name)
        elif event.HasField("activity_task_completed_event_attributes"):
            completed = event.activity_task_completed_event_attributes
            payloads = completed.result.payloads
            results[completed.scheduled_event_id] = (
                PAYLOADS.from_payload(payloads[0]) if payloads else None
            )
    workflow_queue = events[0].workflow_execution_started_event_attributes.task_queue.name
    local = [  # a local activity runs on the queue of its workflow
        ActivityRun(
            order_id,
            run.activity_type,
            workflow_queue,
            run.completed,
            PAYLOADS.from_payload(run.result[0]) if run.result else None,
        )
        for run in map(local_activity_of, events)
        if run is not None
    ]
    return [
        *(
            ActivityRun(order_id, name, queue, event_id in results, results.get(event_id))
            for event_id, (name, queue) in scheduled.items()
        ),
        *local,
    ]


@dataclass(frozen=True)
class ObservedRun:
    client: Client
    data_dir: Path
    runs: list[ScenarioRun]
    business_before: str
    """The business counters before the run: they are per process, so the tests read deltas."""
    scrape_during: str
    """GET /metrics while orders were still running."""
    first_done: ScenarioRun
    """The order whose end triggered that scrape."""
    scrape_after: str
    log_lines: list[str]
    """What the configured handler wrote, one JSON object per line."""
    records: list[logging.LogRecord]
    """The same records, unformatted (before masking)."""
    orders: dict[str, OrderRecord]
    """order id -> what the server holds of it, read after the run."""

    @property
    def order_ids(self) -> set[str]:
        return {run.placed.order_id for run in self.runs}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        assert response.status == 200
        return body.decode()


async def wait_until_quiet(client: Client, within: float = 30.0) -> None:
    """Participants may still be finishing after the orders ended: wait for every workflow of
    the namespace to close, so that the counters are final and the next module starts clean."""

    async def running() -> int:
        return (await client.count_workflows('ExecutionStatus = "Running"')).count

    await eventually(
        running,
        lambda count: count == 0,
        what="every workflow closed",
        within=timedelta(seconds=within),
    )


@pytest.fixture(scope="package")
async def observed_run(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> ObservedRun:
    client = await namespace_client(dev_env, NAMESPACE)
    await wait_until_quiet(client)
    data_dir = tmp_path_factory.mktemp("observed-data")
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logs.configure(level=logging.DEBUG, fmt="json", stream=stream)
    keep = _Keep()
    root.addHandler(keep)
    endpoint = start_metrics_endpoint(0, host="127.0.0.1")
    before = business_exposition().decode()
    during: list[tuple[ScenarioRun, str]] = []
    claimed = False

    async def scrape_once(run: ScenarioRun) -> None:
        nonlocal claimed
        if not claimed:
            claimed = True  # one scrape is enough
            during.append((run, await asyncio.to_thread(scrape, endpoint.url)))

    pending: list[asyncio.Task[None]] = []
    try:
        async with running_workers(
            client, list(Service), data_dir, metrics_port=endpoint.port
        ) as running:
            worker_client = running.workers[0].client
            runs = await run_scenarios(
                client,
                SCENARIOS,
                PLACEABLE_STYLES,
                on_done=lambda run: pending.append(asyncio.create_task(scrape_once(run))),
                patience=PATIENCE,
            )
            await asyncio.gather(*pending)
            await wait_until_quiet(client)
            after = await asyncio.to_thread(scrape, endpoint.url)
            orders = {
                run.placed.order_id: await record_of(client, run.placed.order_id) for run in runs
            }
            assert worker_client.service_client.config.runtime is endpoint.runtime
    finally:
        endpoint.close()
        logs.remove(handler)
        root.removeHandler(keep)
        root.setLevel(level)
    return ObservedRun(
        client=client,
        data_dir=data_dir,
        runs=runs,
        business_before=before,
        first_done=during[0][0],
        scrape_during=during[0][1],
        scrape_after=after,
        log_lines=stream.getvalue().splitlines(),
        records=keep.records,
        orders=orders,
    )
