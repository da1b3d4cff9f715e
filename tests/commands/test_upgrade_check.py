"""`python -m starters.upgrade_check` (`make upgrade-check`) on the session's dev server
(namespace `upgrade-check`): it passes on this code, with the server's recent workflows replayed
too, and fails on a deliberately breaking change to a workflow's commands and to the contract."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import insight.replay_check
from client.orders import PLACEABLE_STYLES
from client.scenario_runs import run_scenarios
from domain.events.contract import EventType
from domain.events.snapshot import SNAPSHOT_FILE
from domain.order import Order
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES, Service, Style
from domain.views import OrderOutcome
from infra.cli import exit_code
from insight.replay_check import RECORDED_HISTORIES, recent_workflows_query
from starters.upgrade_check import main
from tests.conftest import namespace_client
from tests.contract import with_event
from tests.support import PATIENCE, PROJECT_ROOT, eventually
from workers.pool import running_workers
from workers.registry import ALL_WORKFLOWS

pytestmark = pytest.mark.e2e

NAMESPACE = "upgrade-check"
ORDER_WORKFLOW_TYPE = ORCHESTRATOR_WORKFLOW_TYPES[Style.ORCHESTRATED]
WORKFLOWS_OF_HAPPY_ORDERS = 2 + 5 + 4
"""An orchestrated order and its shipment, a choreographed one's five participants, a hybrid
one's orchestrator and three warehouse participants."""


RECORDED_KEPT = (
    "orchestrated-happy-OrderWorkflow.json",
    "choreographed-happy-PaymentsParticipant.json",
    "hybrid-happy-HybridOrderWorkflow.json",
)
"""A few of the recorded histories, in the project the command is pointed at (tests/replay
replays them all; here what is tested is the command)."""


@dataclass(frozen=True)
class Server:
    client: Client
    root: Path
    """A project with the contract's snapshot and `RECORDED_KEPT`."""


@pytest.fixture(scope="module")
async def server(dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Server:
    """A happy order in each style, run to its end, and listed by the server."""
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir: Path = tmp_path_factory.mktemp("upgrade-check-data")
    root = tmp_path_factory.mktemp("upgrade-check-project")
    for kept in (SNAPSHOT_FILE, *(RECORDED_HISTORIES / name for name in RECORDED_KEPT)):
        (root / kept).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / kept, root / kept)
    async with running_workers(client, list(Service), data_dir):
        runs = await run_scenarios(
            client, [SCENARIOS_BY_NAME["happy"]], PLACEABLE_STYLES, patience=PATIENCE
        )
        assert [run for run in runs if not run.as_expected] == []
    query = recent_workflows_query(datetime.now(UTC) - timedelta(days=1))
    await eventually(
        lambda: _count(client, query),
        lambda count: count >= WORKFLOWS_OF_HAPPY_ORDERS,
        what="the orders' workflows listed",
        within=timedelta(seconds=20),
    )
    return Server(client, root)


async def _count(client: Client, query: str) -> int:
    return len([execution async for execution in client.list_workflows(query)])


async def check(server: Server, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = await exit_code(
        lambda argv: main(argv, client=server.client, root=server.root), list(args), "check"
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_this_code_passes_with_the_servers_workflows_replayed_too(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await check(server, capsys, "--from-server", "--within-days", "1")

    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("ok  contract against domain/events/contract_snapshot.json")
    assert lines[1].startswith("ok  replay recorded (tests/replay/histories): ")
    assert lines[2].startswith("ok  replay ")
    assert f"(namespace {NAMESPACE})" in lines[2]
    assert lines[1].endswith(f": {len(RECORDED_KEPT)} histories, all replay")
    replayed = int(lines[2].rsplit(": ", 1)[1].split()[0])
    assert replayed >= WORKFLOWS_OF_HAPPY_ORDERS


@workflow.defn(name=ORDER_WORKFLOW_TYPE, sandboxed=False)
class OrderWorkflowThatWaitsFirst:
    """A deliberately breaking change: the order waits a minute before anything else, where
    every history of an order placed before it schedules an activity first."""

    @workflow.run
    async def run(self, order: Order) -> OrderOutcome:
        await workflow.sleep(timedelta(minutes=1))
        raise AssertionError("never replays this far")


async def test_a_change_to_a_workflows_commands_fails_naming_each_order_it_would_break(
    server: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = [
        OrderWorkflowThatWaitsFirst if _type_of(workflow) == ORDER_WORKFLOW_TYPE else workflow
        for workflow in ALL_WORKFLOWS
    ]
    monkeypatch.setattr(insight.replay_check, "ALL_WORKFLOWS", tuple(changed))

    code, out = await check(server, capsys, "--from-server", "--within-days", "1")

    assert code == 1, out
    failed = [line for line in out.splitlines() if line.startswith("  order-")]
    assert failed, out
    assert any(line.startswith("FAIL  replay recorded") for line in out.splitlines())
    assert any(line.startswith("FAIL  replay ") and NAMESPACE in line for line in out.splitlines())


async def test_a_breaking_change_to_the_contract_fails(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = with_event(EventType.PARCEL_HANDED_OVER, summary="something else now")

    code = await exit_code(lambda argv: main(argv, contract=renamed, root=server.root), [], "check")
    out = capsys.readouterr().out

    assert code == 1
    assert out.splitlines()[0].startswith("  breaking: ParcelHandedOver: meaning changed")
    assert "FAIL  contract against" in out


def _type_of(workflow_class: type) -> str:
    return str(getattr(workflow_class, "__temporal_workflow_definition").name)
