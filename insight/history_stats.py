"""What an order's workflows did, counted from their histories: how many workflows, history
events, activities, signals and timers. The comparison reads these next to the billable actions,
because history length and signal traffic are what each style trades for its shape."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from insight.local_activities import local_activity_of


@dataclass(frozen=True)
class HistoryStats:
    """Counts over one or more workflow histories; they add up across the workflows of an order."""

    workflows: int = 0
    events: int = 0
    activities: int = 0
    """Activity executions: one per `ActivityTaskScheduled` or local activity marker, however
    many attempts it took."""
    activity_attempts: int = 0
    """Attempts, from each `ActivityTaskStarted` event's `attempt` field."""
    signals: int = 0
    """Signals received (`WorkflowExecutionSignaled`), from a client or from another workflow."""
    timers: int = 0
    """Timers started (`TimerStarted`), including the implicit ones of a wait with a timeout."""
    history_bytes: int = 0
    """The events as the server stores them, serialized: what each event carries (a signal's
    payload, an activity's arguments) weighs here, not in the counts."""

    def __add__(self, other: HistoryStats) -> HistoryStats:
        return HistoryStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def activity_attempts(event: HistoryEvent) -> int:
    """How many attempts an `ActivityTaskStarted` event stands for.

    The server writes `ActivityTaskStarted` only for an activity's last attempt (the earlier,
    failed ones of a retried activity leave no event), so the attempts are its `attempt` field,
    not the number of such events. Servers that predate the field leave it 0: one attempt.
    """
    return max(event.activity_task_started_event_attributes.attempt, 1)


def stats_of(events: Sequence[HistoryEvent]) -> HistoryStats:
    """The counts of one workflow run's history; local activities count as activities."""
    kinds = [event.event_type for event in events]
    local = [run for run in map(local_activity_of, events) if run is not None]
    return HistoryStats(
        workflows=1,
        events=len(events),
        activities=kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) + len(local),
        activity_attempts=sum(
            activity_attempts(event)
            for event in events
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        )
        + sum(run.attempt for run in local),
        signals=kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        timers=kinds.count(EventType.EVENT_TYPE_TIMER_STARTED),
        history_bytes=sum(event.ByteSize() for event in events),
    )


def total_stats(histories: Iterable[WorkflowHistory]) -> HistoryStats:
    """The counts of every workflow of an order, added up."""
    return sum((stats_of(history.events) for history in histories), HistoryStats())
