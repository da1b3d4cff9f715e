"""Every scenario in every style end to end on the Temporal dev server, with the real workers of
every service, the simulated carrier and real SQLite stores; then the audit over everything they
did, and the parity of the styles: the same outcome, reason and store effects for each scenario.

The scenarios run all at once (as the demo runs them) in one module-scoped fixture; each test
then checks one scenario's outcome and the effects it left in the stores.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from chaos.processes import child_env, started_workers
from client.orders import PLACEABLE_STYLES
from client.scenario_runs import ScenarioRun, run_scenarios
from domain import search_attributes
from domain.messages.audit import AuditReport
from domain.messages.notifications import NotificationKind
from domain.scenarios import DEMO_TOKEN, SCENARIOS, Scenario
from domain.services import Service, Style, shipment_workflow_id
from domain.status import CancelReason
from infra.data_dir import DATA_DIR_VARIABLE
from insight.audit import check_open_orders
from stores import STORE_URL_VARIABLE, store_location, store_path, store_url_variable
from stores.audit import audit_stores
from stores.database import StoreLocation
from stores.effects import effects_of
from stores.notifications import NotificationsStore
from stores.payments import PaymentsStore
from tests.conftest import SCALED_OUT_NAMESPACE, namespace_client
from tests.postgres_cluster import PostgresServer, fresh_database
from tests.support import PATIENCE, existing_workflows, expected_workflow_ids
from tests.token_traces import files_holding, histories_holding, tables_holding
from workers.pool import running_workers

pytestmark = pytest.mark.e2e


REPLICAS = 2
"""Worker processes per service in the scaled-out deployment."""


class Deployment(StrEnum):
    """Where the workers run and keep their state: the demo's way (every service's worker in
    this process, SQLite files), and production's (two worker processes per service sharing
    each service's store in one PostgreSQL database)."""

    IN_PROCESS_SQLITE = "in-process-sqlite"
    SCALED_OUT_POSTGRESQL = "2-processes-per-service-postgresql"


@dataclass(frozen=True)
class Demo:
    client: Client
    data_dir: Path
    runs: list[ScenarioRun]
    audit_right_after: AuditReport
    """Taken the moment the last order ended, as the demo takes it: an order recorded as ended
    must have every effect in the stores already."""
    worker_identities: dict[Service, set[str]]
    """The identity of each worker of each service: who may have taken a task."""
    store_url: str | None = None
    """The PostgreSQL database of every store; None: SQLite files in `data_dir`."""

    def run_of(self, scenario: Scenario, style: Style) -> ScenarioRun:
        return next(
            run for run in self.runs if run.scenario == scenario and run.placed.style is style
        )

    def runs_of(self, name: str) -> list[ScenarioRun]:
        return [run for run in self.runs if run.scenario.name == name]

    def store(self, service: Service) -> StoreLocation:
        return store_location(self.data_dir, service)


TOKEN = SecretStr(DEMO_TOKEN)
CASES = [(scenario, style) for scenario in SCENARIOS for style in PLACEABLE_STYLES]
CASE_IDS = [f"{scenario.name}-{style.value}" for scenario, style in CASES]


def _identity(service: Service, client_identity: str) -> str:
    """As `workers.pool.build_worker` names a worker; a client's identity is `pid@host`."""
    return f"{service.value}-worker@{client_identity}"


async def _played(client: Client, data_dir: Path) -> tuple[list[ScenarioRun], AuditReport]:
    runs = await run_scenarios(client, SCENARIOS, PLACEABLE_STYLES, patience=PATIENCE)
    return runs, audit_stores(data_dir)


@pytest.fixture(scope="module", params=list(Deployment))
async def demo(
    request: pytest.FixtureRequest,
    dev_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Demo]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    with pytest.MonkeyPatch.context() as env:
        for service in Service:  # whatever the shell running the tests says
            env.delenv(store_url_variable(service), raising=False)
        env.delenv(STORE_URL_VARIABLE, raising=False)
        if request.param is Deployment.IN_PROCESS_SQLITE:
            client = await namespace_client(dev_env, "e2e")
            async with running_workers(client, list(Service), data_dir):
                runs, audit = await _played(client, data_dir)
                ours = {s: {_identity(s, client.identity)} for s in Service}
                yield Demo(client, data_dir, runs, audit, ours)
            return
        server: PostgresServer = request.getfixturevalue("postgres_server")
        with fresh_database(server) as url:
            env.setenv(STORE_URL_VARIABLE, url)
            env.setenv(DATA_DIR_VARIABLE, str(data_dir))  # the dev key the workers unseal with
            client = await namespace_client(dev_env, SCALED_OUT_NAMESPACE)
            address = dev_env.client.service_client.config.target_host
            worker_env = {
                **child_env(address, data_dir),
                "TEMPORAL_NAMESPACE": SCALED_OUT_NAMESPACE,
            }
            async with started_workers(worker_env, data_dir / "logs", REPLICAS) as workers:
                runs, audit = await _played(client, data_dir)
                theirs = {
                    service: {_identity(service, f"{w.pid}@{socket.gethostname()}") for w in ws}
                    for service, ws in workers.items()
                }
                yield Demo(client, data_dir, runs, audit, theirs, store_url=url)


@pytest.mark.parametrize(("scenario", "style"), CASES, ids=CASE_IDS)
async def test_scenario_ends_as_the_architecture_says(
    demo: Demo, scenario: Scenario, style: Style
) -> None:
    outcome = demo.run_of(scenario, style).outcome

    assert (outcome.status, outcome.reason) == (
        scenario.expected_status.value,
        scenario.expected_reason,
    )


@dataclass(frozen=True)
class Effects:
    """What a scenario's order must leave in the stores, whatever its style: every line held in
    one state (None: nothing was ever held), the ledger's entries, each for the order's total,
    the payment's and the shipment's last state, the carrier's reports and the messages sent."""

    lines: str | None
    ledger: tuple[str, ...]
    payment: str | None
    shipment: str | None
    carrier: tuple[str, ...]
    notices: frozenset[NotificationKind]


_N = NotificationKind
_DELIVERED = Effects(
    "consumed",
    ("authorize", "capture"),
    "captured",
    "delivered",
    ("delivered", "picked_up"),
    frozenset({_N.ORDER_RECEIVED, _N.ORDER_DISPATCHED, _N.ORDER_DELIVERED}),
)
_UNDONE = Effects(
    "released",
    ("authorize", "void"),
    "voided",
    None,
    (),
    frozenset({_N.ORDER_RECEIVED, _N.ORDER_CANCELLED}),
)
EXPECTED_EFFECTS: dict[str, Effects] = {
    "happy": _DELIVERED,
    "out_of_stock": Effects(None, (), None, None, (), _UNDONE.notices),
    "payment_declined": dataclasses.replace(_UNDONE, ledger=(), payment="declined"),
    "flaky_payment": _DELIVERED,
    "approval_granted": dataclasses.replace(
        _DELIVERED, notices=_DELIVERED.notices | {_N.APPROVAL_REQUESTED}
    ),
    "approval_rejected": dataclasses.replace(
        _UNDONE, notices=_UNDONE.notices | {_N.APPROVAL_REQUESTED}
    ),
    "approval_timeout": dataclasses.replace(
        _UNDONE, notices=_UNDONE.notices | {_N.APPROVAL_REQUESTED}
    ),
    "stuck_compensation": dataclasses.replace(
        _UNDONE, notices=_UNDONE.notices | {_N.APPROVAL_REQUESTED, _N.COMPENSATION_STUCK}
    ),
    "customer_cancels": _UNDONE,
    "carrier_rejects": _UNDONE,
    "late_delivery": dataclasses.replace(
        _DELIVERED, notices=_DELIVERED.notices | {_N.DELIVERY_LATE}
    ),
    "lost_parcel": Effects(
        "consumed",
        ("authorize", "capture", "refund"),
        "refunded",
        "lost",
        ("picked_up",),
        frozenset({_N.ORDER_RECEIVED, _N.ORDER_DISPATCHED, _N.DELIVERY_LATE, _N.ORDER_CANCELLED}),
    ),
}


def test_every_scenario_has_its_expected_effects_declared() -> None:
    assert sorted(EXPECTED_EFFECTS) == sorted(scenario.name for scenario in SCENARIOS)


@pytest.mark.parametrize(("scenario", "style"), CASES, ids=CASE_IDS)
async def test_scenario_leaves_exactly_its_effects_in_the_stores(
    demo: Demo, scenario: Scenario, style: Style
) -> None:
    order = scenario.order(demo.run_of(scenario, style).placed.order_id)
    expected = EXPECTED_EFFECTS[scenario.name]
    effects = effects_of(demo.data_dir, order.order_id)
    lines = {(item.sku, item.quantity, expected.lines) for item in order.items}

    assert set(effects.reservations) == (lines if expected.lines else set())
    assert effects.ledger == tuple((kind, order.total_cents) for kind in expected.ledger)
    assert (effects.payment_state, effects.shipment_state) == (expected.payment, expected.shipment)
    assert effects.carrier_events == expected.carrier
    assert sorted(kind for kind, _ in effects.notifications) == sorted(expected.notices)


async def test_flaky_payment_is_authorized_on_the_third_gateway_call(demo: Demo) -> None:
    payments = PaymentsStore(demo.store(Service.PAYMENTS))

    for run in demo.runs_of("flaky_payment"):
        assert payments.gateway_calls(run.placed.order_id) == 3, run.placed.style


async def test_late_delivery_is_escalated_and_still_completed(demo: Demo) -> None:
    notifications = NotificationsStore(demo.store(Service.NOTIFICATIONS))

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


@pytest.mark.parametrize(("scenario", "style"), CASES, ids=CASE_IDS)
async def test_an_order_has_exactly_its_workflows_and_each_has_closed_as_it_should(
    demo: Demo, scenario: Scenario, style: Style
) -> None:
    """No participant stays open after its order ended, and none is missing: an order of this
    scenario starts exactly these workflows in this style (a declined order never wakes
    shipping)."""
    order_id = demo.run_of(scenario, style).placed.order_id

    found = await existing_workflows(demo.client, order_id)

    statuses = {workflow_id: description.status for workflow_id, description in found.items()}
    expected = dict.fromkeys(
        expected_workflow_ids(scenario, style, order_id), WorkflowExecutionStatus.COMPLETED
    )
    if scenario.expected_reason is CancelReason.CARRIER_REJECTED and style is Style.ORCHESTRATED:
        # the child fails with the carrier's refusal: that is how its parent order hears of it
        expected[shipment_workflow_id(order_id)] = WorkflowExecutionStatus.FAILED
    assert statuses == expected


async def test_no_history_nor_store_holds_the_payment_token_in_clear(demo: Demo) -> None:
    """Without `ORDERS_PAYLOAD_KEY`: the token is sealed for payments before the order reaches
    Temporal, so no workflow of any order (lifecycle, participants, shipment, warehouse) and no
    store keeps it readable; payments keeps a fingerprint. The tests' codec-less client reads
    the histories as the server, its database and the Web UI do."""
    assert {run.scenario.order("any-order").payment_token for run in demo.runs} == {TOKEN}
    holding: list[str] = []
    for run in demo.runs:
        workflows = await existing_workflows(demo.client, run.placed.order_id)
        holding += await histories_holding(demo.client, workflows, TOKEN.get_secret_value())

    assert holding == []
    assert files_holding(demo.data_dir, TOKEN.get_secret_value()) == []  # stores, workers' logs
    if demo.store_url is not None:
        assert tables_holding(demo.store_url, TOKEN.get_secret_value()) == []


async def test_every_worker_took_work_and_no_one_else(demo: Demo) -> None:
    """Scaled out, each of a service's workers ran some of its tasks (Temporal hands a task to
    whichever poller asks): the stores' guarantees were tried across processes, not assumed."""
    seen: dict[Service, set[str]] = {service: set() for service in Service}
    for run in demo.runs:
        for workflow_id in await existing_workflows(demo.client, run.placed.order_id):
            for identity in await task_identities(demo.client, workflow_id):
                service = Service(identity.split("-worker@", 1)[0])
                seen[service].add(identity)

    assert seen == demo.worker_identities


async def test_each_store_is_where_the_deployment_keeps_it(demo: Demo) -> None:
    """Scaled out, every store is in PostgreSQL: no SQLite file was made instead."""
    files = sorted(path.name for path in demo.data_dir.glob("*.sqlite3"))

    in_files = sorted(store_path(demo.data_dir, service).name for service in Service)
    assert files == ([] if demo.store_url else in_files)
    assert demo.audit_right_after.missing_stores == []


async def task_identities(client: Client, workflow_id: str) -> set[str]:
    """The workers that completed a workflow task or started an activity task of it."""
    found: set[str] = set()
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_task_completed_event_attributes"):
            found.add(event.workflow_task_completed_event_attributes.identity)
        elif event.HasField("activity_task_started_event_attributes"):
            found.add(event.activity_task_started_event_attributes.identity)
    return found


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
