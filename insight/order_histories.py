"""Every workflow of one order, found through its `OrderId` search attribute (not guessed from
ids), with its full history: what the trace and the comparison read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowExecution, WorkflowHistory

from domain import search_attributes
from infra.codec import decrypt_in_place


@dataclass(frozen=True)
class OrderWorkflowHistory:
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: str
    started_at: datetime
    closed_at: datetime | None
    history: WorkflowHistory


async def histories_of(client: Client, order_id: str) -> list[OrderWorkflowHistory]:
    """Oldest first. A workflow started moments ago may take a moment to be listed (visibility
    is eventually consistent), which the trace of a running order simply shows next time."""
    return [
        await history_of(client, execution) for execution in await workflows_of(client, order_id)
    ]


async def workflows_of(client: Client, order_id: str) -> list[WorkflowExecution]:
    """The order's workflows as listed, oldest first, without their histories."""
    query = f"{search_attributes.ORDER_ID.name} = {_quoted(order_id)}"
    executions = [execution async for execution in client.list_workflows(query)]
    executions.sort(key=lambda execution: (execution.start_time, execution.id))
    return executions


async def history_of(client: Client, execution: WorkflowExecution) -> OrderWorkflowHistory:
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    return OrderWorkflowHistory(
        workflow_id=execution.id,
        run_id=execution.run_id,
        workflow_type=execution.workflow_type,
        task_queue=execution.task_queue,
        status=execution.status.name.lower() if execution.status else "unknown",
        started_at=execution.start_time,
        closed_at=execution.close_time,
        history=await _readable(client, await handle.fetch_history()),
    )


async def _readable(client: Client, history: WorkflowHistory) -> WorkflowHistory:
    """A history as stored: with payload encryption on, decrypted with this process's key."""
    decrypt_in_place(history.events, client.data_converter.payload_codec)
    return history


def _quoted(value: str) -> str:
    """A string literal in Temporal's list-filter language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
