"""Replaying histories on the current code, before a deploy: a change to a workflow's commands
that an order in flight would trip on (a non-deterministic change) fails here, not in
production.

Two sources: the histories recorded in the repository (`tests/replay/histories`, a history of
every workflow type on every path), and the recent workflows of a live server, read through the
client's listing (`Client.list_workflows(...).map_histories()`), so the orders actually in
flight on a cluster are replayed too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from infra.sandbox import workflow_runner
from workers.registry import ALL_WORKFLOWS

RECORDED_HISTORIES = Path("tests/replay/histories")
"""From the project's root: a JSON file per recorded history, named after its workflow."""

WORKFLOW_TYPES: tuple[str, ...] = tuple(
    str(getattr(workflow, "__temporal_workflow_definition").name) for workflow in ALL_WORKFLOWS
)


@dataclass(frozen=True)
class ReplayResult:
    source: str
    replayed: int
    failures: dict[str, str] = field(default_factory=dict)
    """What failed to replay, by workflow id (and run id), with the first line of why."""

    def summary(self) -> str:
        failed = f", {len(self.failures)} failed" if self.failures else ", all replay"
        return f"{self.source}: {self.replayed} histories{failed}"


def recorded_histories(root: Path) -> list[WorkflowHistory]:
    files = sorted((root / RECORDED_HISTORIES).glob("*.json"))
    return [WorkflowHistory.from_json(path.stem, path.read_text()) for path in files]


async def replay_recorded(
    histories: list[WorkflowHistory], converter: DataConverter
) -> ReplayResult:
    return await _replay(f"recorded ({RECORDED_HISTORIES})", histories, converter)


def recent_workflows_query(since: datetime) -> str:
    """This project's workflows started since then, whatever their state."""
    types = ", ".join(f"'{name}'" for name in WORKFLOW_TYPES)
    return f"WorkflowType IN ({types}) AND StartTime > '{since.isoformat()}'"


async def replay_from_server(client: Client, within: timedelta, limit: int) -> ReplayResult:
    """The `limit` most recent workflows of this project started `within` the last while, as the
    server has them now, running ones included (their history so far)."""
    since = datetime.now(UTC) - within
    listing = client.list_workflows(recent_workflows_query(since), limit=limit)
    histories = [history async for history in listing.map_histories()]
    where = client.service_client.config.target_host
    return await _replay(
        f"{where} (namespace {client.namespace}), started in the last {_days(within)}",
        histories,
        client.data_converter,
    )


async def _replay(
    source: str, histories: list[WorkflowHistory], converter: DataConverter
) -> ReplayResult:
    if not histories:
        return ReplayResult(source, 0)
    replayer = Replayer(
        workflows=list(ALL_WORKFLOWS), workflow_runner=workflow_runner(), data_converter=converter
    )
    results = await replayer.replay_workflows(_each(histories), raise_on_replay_failure=False)
    ids = {history.run_id: history.workflow_id for history in histories}
    failures = {
        f"{ids.get(run_id, '?')} (run {run_id})": _first_line(error)
        for run_id, error in results.replay_failures.items()
    }
    return ReplayResult(source, len(histories), failures)


async def _each(histories: Iterable[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


def _days(within: timedelta) -> str:
    return f"{within.days} day(s)" if within == timedelta(days=within.days) else str(within)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
