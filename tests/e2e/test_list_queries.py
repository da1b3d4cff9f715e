"""The Temporal list queries a user types in the Web UI, against orders of every style run end
to end on the session's dev server (namespace `e2e-lists`) with the real workers, the simulated
carrier and real SQLite stores.

A handful of scenarios run at once in one module-scoped fixture; each test then types one query.
Visibility is eventually consistent, so each query is polled briefly until it settles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecution
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES
from client.scenario_runs import ScenarioRun, run_scenarios
from domain import search_attributes
from domain.events.envelope import Party
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from tests.conftest import namespace_client
from tests.support import PATIENCE, eventually
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e-lists"
SCENARIO_NAMES = ("happy", "payment_declined", "customer_cancels")
SETTLE_SECONDS = 10.0

WORKFLOWS_OF_A_HAPPY_ORDER: dict[Style, set[tuple[str, str]]] = {
    # (workflow id prefix, workflow type)
    Style.ORCHESTRATED: {("order", "OrderWorkflow"), ("shipment", "ShipmentWorkflow")},
    Style.CHOREOGRAPHED: {
        (service.value, Party(service.value).workflow_type) for service in Service
    },
    Style.HYBRID: {
        ("order", "HybridOrderWorkflow"),
        ("picking", "PickingParticipant"),
        ("packing", "PackingParticipant"),
        ("handoff", "HandoffParticipant"),
    },
}
CANCELLED_BEFORE_DISPATCH: dict[Style, set[tuple[str, str]]] = {
    Style.ORCHESTRATED: {("order", "OrderWorkflow")},
    Style.CHOREOGRAPHED: {
        (service.value, Party(service.value).workflow_type)
        for service in Service
        if service is not Service.SHIPPING
    },
    Style.HYBRID: {("order", "HybridOrderWorkflow")},
}


@dataclass(frozen=True)
class Orders:
    client: Client
    runs: list[ScenarioRun]

    def run_of(self, scenario: str, style: Style) -> ScenarioRun:
        return next(
            run for run in self.runs if run.scenario.name == scenario and run.placed.style is style
        )

    def order_id(self, scenario: str, style: Style) -> str:
        return self.run_of(scenario, style).placed.order_id


@pytest.fixture(scope="module")
async def orders(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Orders]:
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir: Path = tmp_path_factory.mktemp("e2e-lists-data")
    scenarios = [SCENARIOS_BY_NAME[name] for name in SCENARIO_NAMES]
    async with running_workers(client, list(Service), data_dir):
        runs = await run_scenarios(client, scenarios, PLACEABLE_STYLES, patience=PATIENCE)
        assert [run for run in runs if not run.as_expected] == []
        yield Orders(client, runs)


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def listed(client: Client, query: str) -> list[WorkflowExecution]:
    return [execution async for execution in client.list_workflows(query)]


async def listed_eventually(client: Client, query: str, expected: set[str]) -> set[str]:
    """The workflow ids the query lists, once they are exactly `expected`: visibility catches up
    within seconds, so a list that is still different after SETTLE_SECONDS fails the test,
    showing what was listed."""
    return await eventually(
        lambda: ids_listed(client, query),
        expected.__eq__,
        what=f"{query!r} lists exactly {sorted(expected)}",
        within=timedelta(seconds=SETTLE_SECONDS),
        every=timedelta(milliseconds=200),
    )


async def ids_listed(client: Client, query: str) -> set[str]:
    return {execution.id for execution in await listed(client, query)}


def ids_of(prefixes: set[tuple[str, str]], order_id: str) -> set[str]:
    return {f"{prefix}-{order_id}" for prefix, _ in prefixes}


def workflows_of(orders: Orders, scenario: str, style: Style) -> set[str]:
    prefixes = (WORKFLOWS_OF_A_HAPPY_ORDER if scenario == "happy" else CANCELLED_BEFORE_DISPATCH)[
        style
    ]
    return ids_of(prefixes, orders.order_id(scenario, style))


async def test_cancelled_choreographed_orders_are_listed_by_their_order_views(
    orders: Orders,
) -> None:
    """Every participant keeps OrderStatus as far as it knows: of a cancelled order, the order
    view and notifications (which sent the final notice) know it was cancelled; inventory and
    payments last heard of the compensation. The README's query with the workflow type lists
    the order views alone."""
    query = "OrderStyle = 'choreographed' AND OrderStatus = 'cancelled'"
    cancelled = [
        orders.order_id(name, Style.CHOREOGRAPHED)
        for name in ("payment_declined", "customer_cancels")
    ]
    order_views = {Party.ORDERS.workflow_id(order_id) for order_id in cancelled}
    told = {Party.NOTIFICATIONS.workflow_id(order_id) for order_id in cancelled}

    assert await listed_eventually(orders.client, query, order_views | told) == order_views | told
    by_type = f"{query} AND WorkflowType = '{Party.ORDERS.workflow_type}'"
    assert await listed_eventually(orders.client, by_type, order_views) == order_views
    compensating = "OrderStyle = 'choreographed' AND OrderStatus = 'compensating'"
    undone = {
        party.workflow_id(order_id)
        for party in (Party.INVENTORY, Party.PAYMENTS)
        for order_id in cancelled
    }
    assert await listed_eventually(orders.client, compensating, undone) == undone


@pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)
async def test_order_id_lists_every_workflow_of_a_happy_order(orders: Orders, style: Style) -> None:
    order_id = orders.order_id("happy", style)
    query = f"OrderId = {quoted(order_id)}"
    expected = ids_of(WORKFLOWS_OF_A_HAPPY_ORDER[style], order_id)

    assert await listed_eventually(orders.client, query, expected) == expected
    executions = await listed(orders.client, query)
    assert (
        len(executions) == {Style.ORCHESTRATED: 2, Style.CHOREOGRAPHED: 5, Style.HYBRID: 4}[style]
    )
    assert {(e.id.removesuffix(f"-{order_id}"), e.workflow_type) for e in executions} == (
        WORKFLOWS_OF_A_HAPPY_ORDER[style]
    )


@pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)
async def test_order_id_lists_every_workflow_of_an_order_cancelled_before_dispatch(
    orders: Orders, style: Style
) -> None:
    for name in ("payment_declined", "customer_cancels"):
        order_id = orders.order_id(name, style)
        expected = ids_of(CANCELLED_BEFORE_DISPATCH[style], order_id)

        assert await listed_eventually(
            orders.client, f"OrderId = {quoted(order_id)}", expected
        ) == (expected), name


async def test_customer_id_lists_every_workflow_of_that_customers_orders(orders: Orders) -> None:
    customer_id = orders.run_of("happy", Style.ORCHESTRATED).scenario.order("x-1").customer.id
    expected = {
        workflow_id
        for style in PLACEABLE_STYLES
        for workflow_id in ids_of(
            WORKFLOWS_OF_A_HAPPY_ORDER[style], orders.order_id("happy", style)
        )
    }

    assert await listed_eventually(
        orders.client, f"CustomerId = {quoted(customer_id)}", expected
    ) == (expected)
    running = f"CustomerId = {quoted(customer_id)} AND ExecutionStatus = 'Running'"
    assert await listed_eventually(orders.client, running, set()) == set()


async def test_completed_hybrid_orders_are_listed_by_their_orchestrator(orders: Orders) -> None:
    """Of a delivered hybrid order, the orchestrator and the hand-off (which heard the parcel
    arrive) say completed; picking and packing last knew it was being dispatched."""
    query = "OrderStatus = 'completed' AND OrderStyle = 'hybrid'"
    order_id = orders.order_id("happy", Style.HYBRID)
    orchestrator = Party.ORCHESTRATOR.workflow_id(order_id)
    completed = {orchestrator, Party.HANDOFF.workflow_id(order_id)}

    assert await listed_eventually(orders.client, query, completed) == completed
    by_type = f"{query} AND WorkflowType = 'HybridOrderWorkflow'"
    assert await listed_eventually(orders.client, by_type, {orchestrator}) == {orchestrator}
    every_hybrid_order = {
        Party.ORCHESTRATOR.workflow_id(orders.order_id(name, Style.HYBRID))
        for name in SCENARIO_NAMES
    }
    all_hybrid = "OrderStyle = 'hybrid' AND WorkflowType = 'HybridOrderWorkflow'"
    assert await listed_eventually(orders.client, all_hybrid, every_hybrid_order) == (
        every_hybrid_order
    )


Attributes = dict[str, str | None]


async def attributes_of_every_workflow(orders: Orders) -> dict[tuple[ScenarioRun, str], Attributes]:
    """(run, workflow id) -> the four attributes as the list shows them, for every order."""
    found: dict[tuple[ScenarioRun, str], Attributes] = {}
    for run in orders.runs:
        expected = workflows_of(orders, run.scenario.name, run.placed.style)
        query = f"OrderId = {quoted(run.placed.order_id)}"
        assert await listed_eventually(orders.client, query, expected) == expected
        for execution in await listed(orders.client, query):
            attributes = execution.typed_search_attributes
            found[run, execution.id] = {
                key.name: attributes.get(key) for key in search_attributes.ALL
            }
    return found


async def test_every_workflow_of_an_order_carries_its_id_style_and_customer(
    orders: Orders,
) -> None:
    found = await attributes_of_every_workflow(orders)

    for (run, workflow_id), attributes in sorted(found.items(), key=lambda item: item[0][1]):
        customer = run.scenario.order(run.placed.order_id).customer.id
        assert (
            attributes["OrderId"],
            attributes["OrderStyle"],
            attributes["CustomerId"],
        ) == (run.placed.order_id, run.placed.style.value, customer), workflow_id
        if workflow_id == run.placed.workflow_id:  # the one that answers for the order
            assert attributes["OrderStatus"] == run.outcome.status, workflow_id
        print(f"{run.scenario.name:<17} {workflow_id:<40} {attributes['OrderStatus']}")


async def test_every_workflow_of_an_order_carries_an_order_status(orders: Orders) -> None:
    found = await attributes_of_every_workflow(orders)

    without = sorted(
        workflow_id
        for (_, workflow_id), attributes in found.items()
        if attributes["OrderStatus"] is None
    )
    assert without == []
