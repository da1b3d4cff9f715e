"""The events a participant received, read from its history: they need no worker to answer,
and hold for a participant that has ended."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import Client

from domain.events.envelope import SIGNAL_EVENT


@dataclass(frozen=True)
class EventSignal:
    at: datetime
    """When the server took the signal."""
    arguments: tuple[Any, ...]
    """As sent, decoded (the envelope, not yet checked against the contract)."""


async def event_signals(client: Client, workflow_id: str) -> AsyncIterator[EventSignal]:
    """Each `event` signal of the workflow, oldest first."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        if event.event_type != HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        signaled = event.workflow_execution_signaled_event_attributes
        if signaled.signal_name != SIGNAL_EVENT:
            continue
        raw = await client.data_converter.decode(signaled.input.payloads)
        yield EventSignal(event.event_time.ToDatetime(UTC), tuple(raw))
