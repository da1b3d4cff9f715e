"""Every scenario in every style end to end on the Temporal dev server, with the real workers of
every service, the simulated carrier and real SQLite stores; then the audit over everything they
did, and the parity of the styles: the same outcome, reason and store effects for each scenario.

The scenarios run all at once (as the demo runs them) in one module-scoped fixture; each test
then checks one scenario's outcome and the effects it left in the stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from domain import search_attributes
from domain.events.envelope import Party
from domain.messages.audit import AuditReport
from domain.messages.notifications import NotificationKind
from domain.scenarios import SCENARIOS, Scenario
from domain.services import Service, Style
from domain.status import OrderStatus
from starters.audit import check_open_orders
from starters.order_client import PLACEABLE_STYLES
from starters.scenario_runs import ScenarioRun, run_scenarios
from stores import store_path
from stores.audit import audit_stores
from stores.effects import effects_of
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.payments import PaymentsStore
from tests.conftest import namespace_client
from workers.pool import running_workers

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Demo:
    client: Client
    data_dir: Path
    runs: list[ScenarioRun]
    audit_right_after: AuditReport
    """Taken the moment the last order ended, as the demo takes it: an order recorded as ended
    must have every effect in the stores already."""

    def run_of(self, scenario: Scenario, style: Style) -> ScenarioRun:
        return next(
            run for run in self.runs if run.scenario == scenario and run.placed.style is style
        )

    def runs_of(self, name: str) -> list[ScenarioRun]:
        return [run for run in self.runs if run.scenario.name == name]


CASES = [(scenario, style) for scenario in SCENARIOS for style in PLACEABLE_STYLES]
CASE_IDS = [f"{scenario.name}-{style.value}" for scenario, style in CASES]


@pytest.fixture(scope="module")
async def demo(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Demo]:
    client = await namespace_client(dev_env, "e2e")
    data_dir = tmp_path_factory.mktemp("e2e-data")
    async with running_workers(client, list(Service), data_dir):
        runs = await run_scenarios(client, SCENARIOS, PLACEABLE_STYLES)
        yield Demo(client, data_dir, runs, audit_stores(data_dir))


@pytest.mark.parametrize(("scenario", "style"), CASES, ids=CASE_IDS)
async def test_scenario_ends_as_the_architecture_says(
    demo: Demo, scenario: Scenario, style: Style
) -> None:
    outcome = demo.run_of(scenario, style).outcome

    assert (outcome.status, outcome.reason) == (
        scenario.expected_status.value,
        scenario.expected_reason,
    )


@pytest.mark.parametrize(("scenario", "style"), CASES, ids=CASE_IDS)
async def test_scenario_leaves_the_stores_consistent_with_its_outcome(
    demo: Demo, scenario: Scenario, style: Style
) -> None:
    order_id = demo.run_of(scenario, style).placed.order_id
    payments = PaymentsStore(store_path(demo.data_dir, Service.PAYMENTS))
    inventory = InventoryStore(store_path(demo.data_dir, Service.INVENTORY))
    notifications = NotificationsStore(store_path(demo.data_dir, Service.NOTIFICATIONS))
    total = scenario.order(order_id).total_cents
    states = {str(reservation.state) for reservation in inventory.reservations(order_id)}
    sent = {message.kind for message in notifications.messages(order_id)}

    if scenario.expected_status is OrderStatus.COMPLETED:
        assert payments.net_captured(order_id) == total
        assert states == {"consumed"}
        assert NotificationKind.ORDER_DELIVERED in sent
    else:
        assert payments.net_captured(order_id) == 0
        assert "held" not in states
        assert NotificationKind.ORDER_CANCELLED in sent


async def test_flaky_payment_is_authorized_on_the_third_gateway_call(demo: Demo) -> None:
    payments = PaymentsStore(store_path(demo.data_dir, Service.PAYMENTS))

    for run in demo.runs_of("flaky_payment"):
        assert payments.gateway_calls(run.placed.order_id) == 3, run.placed.style


async def test_late_delivery_is_escalated_and_still_completed(demo: Demo) -> None:
    notifications = NotificationsStore(store_path(demo.data_dir, Service.NOTIFICATIONS))

    for run in demo.runs_of("late_delivery"):
        assert run.outcome.delivered_late
        kinds = {message.kind for message in notifications.messages(run.placed.order_id)}
        assert NotificationKind.DELIVERY_LATE in kinds


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
async def test_every_style_ends_alike_with_the_same_effects(demo: Demo, scenario: Scenario) -> None:
    """The project's proof that the comparison is fair: same outcome, reason and store effects."""
    baseline = demo.run_of(scenario, Style.ORCHESTRATED)
    expected = (
        baseline.outcome.status,
        baseline.outcome.reason,
        effects_of(demo.data_dir, baseline.placed.order_id),
    )

    for style in PLACEABLE_STYLES:
        run = demo.run_of(scenario, style)
        effects = effects_of(demo.data_dir, run.placed.order_id)
        assert (run.outcome.status, run.outcome.reason, effects) == expected, style


async def test_no_participant_stays_open_after_its_order_ended(demo: Demo) -> None:
    for run in demo.runs:
        parties = {
            Style.ORCHESTRATED: (),
            Style.CHOREOGRAPHED: tuple(Party(service.value) for service in Service),
            Style.HYBRID: (Party.PICKING, Party.PACKING, Party.HANDOFF),
        }[run.placed.style]
        for party in parties:
            handle = demo.client.get_workflow_handle(party.workflow_id(run.placed.order_id))
            try:
                description = await handle.describe()
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                continue  # this order never needed that participant
            assert description.status is WorkflowExecutionStatus.COMPLETED, (
                run.scenario.name,
                party,
            )


async def test_search_attributes_show_each_order_as_it_ended(demo: Demo) -> None:
    for run in demo.runs:
        description = await demo.client.get_workflow_handle(run.placed.workflow_id).describe()
        attributes = description.typed_search_attributes
        assert attributes.get(search_attributes.ORDER_STATUS) == run.outcome.status
        assert attributes.get(search_attributes.ORDER_STYLE) == run.placed.style.value


async def test_the_audit_finds_every_invariant_holding(demo: Demo) -> None:
    report = demo.audit_right_after
    waiting, left_behind = await check_open_orders(demo.client, report.open_orders)

    assert report.violations == []
    assert left_behind == []
    assert waiting == []
    assert report.orders_checked == len(demo.runs)
