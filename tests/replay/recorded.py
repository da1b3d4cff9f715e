"""The recorded histories under `histories/`, and what the replay tests read in them: the
workflow type, the activities scheduled, the version markers recorded."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadConverter

from domain.events.envelope import SIGNAL_EVENT
from insight.local_activities import local_activity_of

HISTORIES = Path(__file__).parent / "histories"

PATCH_MARKER = "core_patch"
"""The marker name the SDK's core gives `workflow.patched` (`patch-data` holds the patch id)."""
_PATCH_DATA = "patch-data"


@dataclass(frozen=True)
class Recorded:
    """One recorded history file."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def history(self) -> WorkflowHistory:
        return WorkflowHistory.from_json(self.path.stem, self.path.read_text())

    @property
    def run_id(self) -> str:
        """What `Replayer.replay_workflows` keys its failures by."""
        return self.history.run_id

    @property
    def workflow_type(self) -> str:
        started = self.history.events[0].workflow_execution_started_event_attributes
        return started.workflow_type.name

    @cached_property
    def scheduled_activities(self) -> frozenset[str]:
        """The activity types this history schedules (the commands a replay must repeat), local
        ones included: their marker names them."""
        scheduled = {
            event.activity_task_scheduled_event_attributes.activity_type.name
            for event in self._events_of(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        }
        local = map(local_activity_of, self._events_of(EventType.EVENT_TYPE_MARKER_RECORDED))
        scheduled.update(run.activity_type for run in local if run is not None)
        return frozenset(scheduled)

    @cached_property
    def patch_markers(self) -> frozenset[str]:
        """The patch ids of the `workflow.patched` calls that took the new branch here."""
        markers = (
            event.marker_recorded_event_attributes
            for event in self._events_of(EventType.EVENT_TYPE_MARKER_RECORDED)
        )
        return frozenset(
            _patch_id(marker.details[_PATCH_DATA].payloads)
            for marker in markers
            if marker.marker_name == PATCH_MARKER
        )

    @property
    def closed_as(self) -> EventType.ValueType:
        """The event that closed the workflow: completed, failed, cancelled..."""
        return self.history.events[-1].event_type

    @property
    def result(self) -> dict[str, Any] | None:
        """What the workflow returned (as JSON), if it completed."""
        completed = self._events_of(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
        if not completed:
            return None
        result = completed[-1].workflow_execution_completed_event_attributes.result
        (value,) = PayloadConverter.default.from_payloads(result.payloads)
        return dict(value)

    @property
    def cancel_requested(self) -> bool:
        """Whether someone asked Temporal to cancel this workflow (`temporal workflow cancel`)."""
        return bool(self._events_of(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED))

    @property
    def accepted_updates(self) -> list[str]:
        """The updates its validators accepted, in order (a refused one leaves no event)."""
        return [
            event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for event in self._events_of(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        ]

    @property
    def fired_timers(self) -> list[str]:
        """The summaries of the timers that fired (`approval window`, `handling time`...)."""
        summaries = {
            event.event_id: self._text(event.user_metadata.summary)
            for event in self._events_of(EventType.EVENT_TYPE_TIMER_STARTED)
        }
        return [
            summaries[event.timer_fired_event_attributes.started_event_id]
            for event in self._events_of(EventType.EVENT_TYPE_TIMER_FIRED)
        ]

    @cached_property
    def cancelled_activities(self) -> frozenset[str]:
        """The activity types the workflow asked to cancel (as the SDK does for the activity it
        waits on when the workflow is cancelled)."""
        scheduled = {
            event.event_id: event.activity_task_scheduled_event_attributes.activity_type.name
            for event in self._events_of(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        }
        return frozenset(
            scheduled[event.activity_task_cancel_requested_event_attributes.scheduled_event_id]
            for event in self._events_of(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
        )

    def attempts(self, activity_type: str) -> int:
        """The most attempts any one scheduled `activity_type` took to start its last time."""
        scheduled = {
            event.event_id
            for event in self._events_of(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
            if event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
        }
        return max(
            (
                event.activity_task_started_event_attributes.attempt
                for event in self._events_of(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
                if event.activity_task_started_event_attributes.scheduled_event_id in scheduled
            ),
            default=0,
        )

    @property
    def signalled_events(self) -> list[dict[str, Any]]:
        """The `event` signals it received (envelopes as JSON), in order; at start too."""
        signalled = [
            event.workflow_execution_signaled_event_attributes
            for event in self._events_of(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        ]
        return [
            dict(envelope)
            for attributes in signalled
            if attributes.signal_name == SIGNAL_EVENT
            for envelope in PayloadConverter.default.from_payloads(attributes.input.payloads)
        ]

    @staticmethod
    def _text(payload: Payload) -> str:
        if not payload.data:
            return ""
        (text,) = PayloadConverter.default.from_payloads([payload])
        return str(text)

    def _events_of(self, event_type: EventType.ValueType) -> list[HistoryEvent]:
        return [event for event in self.history.events if event.event_type == event_type]


def _patch_id(payloads: Sequence[Payload]) -> str:
    (data,) = PayloadConverter.default.from_payloads(payloads)
    return str(data["id"])


@functools.cache
def recorded_histories() -> tuple[Recorded, ...]:
    """Every history under `histories/`, each parsed once for the whole test run."""
    return tuple(Recorded(path) for path in sorted(HISTORIES.glob("*.json")))


def recorded(name: str) -> Recorded:
    """The recorded history of that file name (`FileNotFoundError` if there is none)."""
    for history in recorded_histories():
        if history.name == name:
            return history
    raise FileNotFoundError(HISTORIES / name)
