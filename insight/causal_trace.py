"""The causal trace of one order: every activity, signal, update, timer, child workflow and event
of every workflow of the order, read back from their Temporal histories, each linked to the entry
that caused it.

Causation is only what the histories prove:

- an event's receipt (an `event` signal) is caused by the `publish_event` activity whose envelope
  carries the same `event_id`; a publish is caused by the receipt of its envelope's
  `causation_id` in the same workflow;
- a signal sent by a workflow (`SignalExternalWorkflowExecutionInitiated`) causes the signal
  received from that workflow with the same name and the same payload bytes;
- a child start causes the child's run; a signal-with-start's publish causes the participant's run;
- a command (activity, timer, child, signal sent) is caused by what woke the workflow task that
  issued it, when that is one thing only: a signal, an update, a timer that fired, a failed
  activity or a child that ended. A successful activity, a child that started or a signal that
  was delivered only let the same handling go on, so what follows keeps their cause. When the
  task was woken by several unrelated things, the command has no cause rather than a guess.
  An SDK's event-group marker (a command issued inside a signal or update handler) wins over this.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.converter import PayloadConverter

from insight.order_histories import OrderWorkflowHistory, histories_of
from insight.trace_history import Links, Reader
from insight.trace_model import (
    STARTED_BY_SIGNAL,
    EntryKind,
    OrderTrace,
    TracedWorkflow,
    TraceEntry,
)

__all__ = [
    "STARTED_BY_SIGNAL",
    "EntryKind",
    "OrderTrace",
    "TraceEntry",
    "TracedWorkflow",
    "build_trace",
    "trace_order",
]


async def trace_order(client: Client, order_id: str) -> OrderTrace:
    """The trace of every workflow the order's `OrderId` search attribute finds (none: empty)."""
    histories = await histories_of(client, order_id)
    return build_trace(order_id, histories, client.data_converter.payload_converter)


def build_trace(
    order_id: str, histories: Sequence[OrderWorkflowHistory], converter: PayloadConverter
) -> OrderTrace:
    """Read each history on its own, then link across workflows, then sort by time (stable:
    within a workflow, history order breaks ties)."""
    links = Links()
    entries: list[TraceEntry] = []
    for history in histories:
        entries.extend(Reader(history, converter, links).read())
    links.resolve(entries)
    entries.sort(key=lambda entry: entry.at)
    return OrderTrace(
        order_id=order_id, workflows=[_traced(history) for history in histories], entries=entries
    )


def _traced(history: OrderWorkflowHistory) -> TracedWorkflow:
    """The workflow's description, as the trace shows it: its fields, without the history."""
    return TracedWorkflow.model_validate(history, from_attributes=True)
