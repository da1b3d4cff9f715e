"""Replaying many recorded histories through one replayer: one worker for them all, which is
several times faster than a replayer per history (the replay tests replay every history once per
changed command)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowRunner

from tests.replay.recorded import Recorded
from workers.registry import ALL_WORKFLOWS


async def replay_failures(
    histories: Sequence[Recorded], runner: WorkflowRunner
) -> dict[str, Exception]:
    """Replay every history on the workers' workflows; the failures, by history file name."""
    by_run_id = {recorded.run_id: recorded for recorded in histories}
    if len(by_run_id) != len(histories):  # failures are reported by run id
        raise ValueError("two recorded histories share a run id")
    replayer = Replayer(
        workflows=list(ALL_WORKFLOWS),
        workflow_runner=runner,
        data_converter=pydantic_data_converter,
    )
    results = await replayer.replay_workflows(_each(histories), raise_on_replay_failure=False)
    return {by_run_id[run_id].name: error for run_id, error in results.replay_failures.items()}


async def _each(histories: Sequence[Recorded]) -> AsyncIterator[WorkflowHistory]:
    for recorded in histories:
        yield recorded.history
