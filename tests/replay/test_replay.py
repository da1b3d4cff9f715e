"""Every change to a workflow must still replay the histories recorded under `histories/`: a
history that no longer replays is a workflow that would break mid-flight in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from infra.sandbox import workflow_runner
from workers.registry import ALL_WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def _workflow_type(path: Path) -> str:
    events = json.loads(path.read_text())["events"]
    return str(events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])


def test_every_workflow_type_has_a_recorded_history() -> None:
    recorded = {_workflow_type(path) for path in HISTORIES}
    registered = {workflow.__temporal_workflow_definition.name for workflow in ALL_WORKFLOWS}  # type: ignore[attr-defined]

    assert registered <= recorded, f"record a history for {sorted(registered - recorded)}"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=list(ALL_WORKFLOWS),
        workflow_runner=workflow_runner(),
        data_converter=pydantic_data_converter,
    )
    history = _load(path)

    await replayer.replay_workflow(history)
