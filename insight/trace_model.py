"""What a causal trace is made of: one entry per thing that happened to an order, linked to the
entry that caused it, and the workflows they happened in."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

STARTED_BY_SIGNAL = "started by its first signal"
"""A participant's run starts with the event that signal-with-start delivered to it."""


class EntryKind(StrEnum):
    WORKFLOW = "workflow"
    """A workflow's run, from its start to its close (or now)."""
    ACTIVITY = "activity"
    EVENT_PUBLISHED = "event_published"
    """A `publish_event` activity: the event leaves its producer."""
    EVENT_RECEIVED = "event_received"
    """An `event` signal: the event reaches one consumer."""
    SIGNAL_SENT = "signal_sent"
    SIGNAL_RECEIVED = "signal_received"
    UPDATE = "update"
    TIMER = "timer"
    CHILD = "child"
    CANCEL_REQUESTED = "cancel_requested"


class TraceEntry(BaseModel):
    """One thing that happened to the order, in one workflow."""

    id: str
    """`<workflow id>/<history event id>` of the event that opened it."""
    at: datetime
    duration: timedelta | None = None
    """Until it closed; None while it runs, or for what takes no time (a signal received)."""
    workflow_id: str
    service: str
    """The task queue an activity ran on; else the party whose workflow this is."""
    kind: EntryKind
    name: str
    """Activity type, event type, signal or update name, timer summary, workflow type."""
    what: str
    status: str
    detail: str | None = None
    attempts: int | None = None
    compensation: bool = False
    caused_by: str | None = None
    peer: str | None = None
    """The other workflow: a signal's sender or target, a child's id."""
    event_id: str | None = None
    causation_id: str | None = None


class TracedWorkflow(BaseModel):
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: str
    started_at: datetime
    closed_at: datetime | None


class OrderTrace(BaseModel):
    order_id: str
    workflows: list[TracedWorkflow]
    entries: list[TraceEntry]
