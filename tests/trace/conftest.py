"""Known orders, run once per module on the session's dev server in the `trace` namespace with
real workers: the scenarios whose traces the tests check step by step, and one order left waiting
for a person, to trace while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.input_files import new_order_id, read_order
from client.orders import PlacedOrder, place_order
from client.scenario_runs import ScenarioRun, run_scenario
from domain import search_attributes
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from insight.causal_trace import EntryKind, OrderTrace, trace_order
from tests.conftest import namespace_client
from tests.support import PATIENCE, PROJECT_ROOT, closed_workflows, eventually
from workers.pool import running_workers

NAMESPACE = "trace"
NEEDS_APPROVAL = PROJECT_ROOT / "examples" / "orders" / "needs_approval.json"
CASES = (
    ("happy", Style.ORCHESTRATED),
    ("happy", Style.CHOREOGRAPHED),
    ("happy", Style.HYBRID),
    ("payment_declined", Style.ORCHESTRATED),
    ("customer_cancels", Style.CHOREOGRAPHED),
)
SETTLE_SECONDS = 10.0


@dataclass(frozen=True)
class Orders:
    client: Client
    address: str
    data_dir: Path
    runs: dict[tuple[str, Style], ScenarioRun]
    waiting: PlacedOrder
    """A choreographed order above the approval threshold, waiting for a person."""

    async def trace(self, scenario: str, style: Style) -> OrderTrace:
        return await trace_order(self.client, self.runs[scenario, style].placed.order_id)


@pytest.fixture(scope="package")
async def orders(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Orders]:
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir = tmp_path_factory.mktemp("trace-data")
    async with running_workers(client, list(Service), data_dir):
        waiting, runs = await asyncio.gather(
            _place_waiting_order(client),
            asyncio.gather(
                *(
                    run_scenario(client, SCENARIOS_BY_NAME[name], style, PATIENCE)
                    for name, style in CASES
                )
            ),
        )
        await _settled(client, [run.placed.order_id for run in runs])
        yield Orders(
            client,
            client.service_client.config.target_host,
            data_dir,
            dict(zip(CASES, runs, strict=True)),
            waiting,
        )
        await _terminate_order(client, waiting.order_id)


async def _place_waiting_order(client: Client) -> PlacedOrder:
    """Placed, then traced until its approval window is open (the trace itself says so)."""
    order = read_order(NEEDS_APPROVAL, new_order_id("trace-waiting"))
    placed = await place_order(client, order, Style.CHOREOGRAPHED)
    await eventually(
        lambda: trace_order(client, order.order_id),
        lambda trace: any(entry.kind is EntryKind.TIMER for entry in trace.entries),
        what=f"the approval window of {order.order_id} open in its trace",
        within=timedelta(seconds=SETTLE_SECONDS * 2),
        every=timedelta(milliseconds=200),
    )
    return placed


async def _settled(client: Client, order_ids: list[str]) -> None:
    """An order's outcome comes before its last participants end: wait until they have."""
    for order_id in order_ids:
        await closed_workflows(client, order_id, timedelta(seconds=SETTLE_SECONDS))


async def _terminate_order(client: Client, order_id: str) -> None:
    """The waiting order would wait 30 minutes for its approver: end it with the module."""
    query = f"{search_attributes.ORDER_ID.name} = '{order_id}' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        await client.get_workflow_handle(execution.id).terminate(reason="end of the trace tests")
