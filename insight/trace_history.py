"""Reading one workflow's history into trace entries, and the links between histories that can
only be resolved once every history of the order was read (see `insight.causal_trace`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import PayloadConverter

from activities.common import activity_name
from activities.compensations import COMPENSATING_ACTIVITY_NAMES
from activities.events import EventPublisher
from domain.events.contract import ORDER_CONTRACT, EventContractError
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope, Party
from insight.local_activities import local_activity_of
from insight.order_histories import OrderWorkflowHistory
from insight.trace_model import STARTED_BY_SIGNAL, EntryKind, TraceEntry

PUBLISH_ACTIVITY = activity_name(EventPublisher.publish_event)
"""Every service's worker registers it (`workers.registry`): an event leaving its producer."""


def party_of(workflow_type: str, task_queue: str) -> str:
    """The party whose participant this is (`InventoryParticipant`: inventory, `PickingParticipant`:
    picking); else the task queue. A warehouse participant runs on the shipping queue but is a
    party of its own."""
    party = Party.of_workflow_type(workflow_type)
    return party.value if party is not None else task_queue


# -- links across workflows ------------------------------------------------------------------

SignalKey = tuple[str, str, str, bytes]
"""(sender workflow, target workflow, signal name, payload bytes)."""


@dataclass
class Links:
    """What one history says about another, to resolve once every history was read."""

    published: dict[str, str] = field(default_factory=dict)
    """event_id → the publish entry."""
    received_events: dict[str, str] = field(default_factory=dict)
    """receipt entry → event_id."""
    sent: dict[SignalKey, list[str]] = field(default_factory=dict)
    received_signals: dict[str, SignalKey] = field(default_factory=dict)
    children: dict[str, str] = field(default_factory=dict)
    """child workflow entry → the parent's child entry."""
    started_by_signal: dict[str, str] = field(default_factory=dict)
    """workflow entry → its signal-with-start receipt."""

    def resolve(self, entries: list[TraceEntry]) -> None:
        by_id = {entry.id: entry for entry in entries}
        for entry_id, event_id in self.received_events.items():
            by_id[entry_id].caused_by = self.published.get(event_id)
        for entry_id, key in self.received_signals.items():
            senders = self.sent.get(key)
            if senders:
                by_id[entry_id].caused_by = senders.pop(0)
        for entry_id, parent_entry in self.children.items():
            if parent_entry in by_id:
                by_id[entry_id].caused_by = parent_entry
        for entry_id, receipt in self.started_by_signal.items():
            by_id[entry_id].caused_by = by_id[receipt].caused_by


# -- one history -------------------------------------------------------------------------------

_CLOSED_STATUS = {
    "workflow_execution_completed_event_attributes": "completed",
    "workflow_execution_failed_event_attributes": "failed",
    "workflow_execution_canceled_event_attributes": "canceled",
    "workflow_execution_terminated_event_attributes": "terminated",
    "workflow_execution_timed_out_event_attributes": "timed_out",
    "workflow_execution_continued_as_new_event_attributes": "continued_as_new",
}
_ACTIVITY_CLOSED = {
    "activity_task_completed_event_attributes": "completed",
    "activity_task_failed_event_attributes": "failed",
    "activity_task_timed_out_event_attributes": "timed_out",
    "activity_task_canceled_event_attributes": "canceled",
}
_CHILD_CLOSED = {
    "child_workflow_execution_completed_event_attributes": "completed",
    "child_workflow_execution_failed_event_attributes": "failed",
    "child_workflow_execution_canceled_event_attributes": "canceled",
    "child_workflow_execution_timed_out_event_attributes": "timed_out",
    "child_workflow_execution_terminated_event_attributes": "terminated",
}

Trigger = str | None
"""The cause a workflow task inherits from one thing that woke it; None: unknown."""


class Reader:
    """Walks one history once, in order, keeping what woke each workflow task."""

    def __init__(
        self, history: OrderWorkflowHistory, converter: PayloadConverter, links: Links
    ) -> None:
        self._history = history
        self._converter = converter
        self._links = links
        self._wf = history.workflow_id
        self._party = party_of(history.workflow_type, history.task_queue)
        self._entries: dict[int, TraceEntry] = {}
        self._receipts: dict[str, str] = {}
        """event_id → its receipt entry in this workflow."""
        self._updates: dict[str, str] = {}
        """update id → its entry."""
        self._timers: dict[str, int] = {}
        self._pending: list[Trigger] = []
        self._current: list[Trigger] = []
        self._last_started = 0
        self._last_started_at: datetime | None = None
        """When the latest workflow task started: a local activity ran within it."""
        self._updates_by_task = _updates_by_task(history.history.events)
        self._with_start_signal = _starts_with_signal(history.history.events)

    def read(self) -> list[TraceEntry]:
        handlers = self._handlers()
        for event in self._history.history.events:
            attributes = event.WhichOneof("attributes")
            if attributes in _CLOSED_STATUS:
                self._closed(event, attributes, _CLOSED_STATUS[attributes])
            elif attributes in _ACTIVITY_CLOSED:
                self._activity_closed(event, attributes, _ACTIVITY_CLOSED[attributes])
            elif attributes in _CHILD_CLOSED:
                self._child_closed(event, attributes, _CHILD_CLOSED[attributes])
            elif attributes in handlers:
                handlers[attributes](event)
        return list(self._entries.values())

    def _handlers(self) -> dict[str, Callable[[HistoryEvent], None]]:
        return {
            "workflow_execution_started_event_attributes": self._started,
            "workflow_task_started_event_attributes": self._task_started,
            "workflow_task_failed_event_attributes": self._task_failed,
            "workflow_task_timed_out_event_attributes": self._task_failed,
            "activity_task_scheduled_event_attributes": self._activity_scheduled,
            "activity_task_started_event_attributes": self._activity_started,
            "marker_recorded_event_attributes": self._marker_recorded,
            "timer_started_event_attributes": self._timer_started,
            "timer_fired_event_attributes": self._timer_fired,
            "timer_canceled_event_attributes": self._timer_canceled,
            "workflow_execution_signaled_event_attributes": self._signaled,
            "signal_external_workflow_execution_initiated_event_attributes": self._signal_sent,
            "external_workflow_execution_signaled_event_attributes": self._signal_delivered,
            "signal_external_workflow_execution_failed_event_attributes": self._signal_failed,
            "start_child_workflow_execution_initiated_event_attributes": self._child_initiated,
            "start_child_workflow_execution_failed_event_attributes": self._child_not_started,
            "child_workflow_execution_started_event_attributes": self._child_started,
            "workflow_execution_update_accepted_event_attributes": self._update_accepted,
            "workflow_execution_update_completed_event_attributes": self._update_completed,
            "workflow_execution_cancel_requested_event_attributes": self._cancel_requested,
        }

    # -- entries -------------------------------------------------------------------------------

    def _add(
        self, event: HistoryEvent, kind: EntryKind, name: str, what: str, **fields: Any
    ) -> TraceEntry:
        entry = TraceEntry(
            id=f"{self._wf}/{event.event_id}",
            at=event.event_time.ToDatetime(tzinfo=UTC),
            workflow_id=self._wf,
            service=fields.pop("service", self._party),
            kind=kind,
            name=name,
            what=what,
            status=fields.pop("status", "running"),
            **fields,
        )
        self._entries[event.event_id] = entry
        return entry

    def _close(self, opened_by: int, event: HistoryEvent, status: str) -> TraceEntry | None:
        entry = self._entries.get(opened_by)
        if entry is not None:
            entry.status = status
            entry.duration = event.event_time.ToDatetime(tzinfo=UTC) - entry.at
        return entry

    # -- the workflow itself ------------------------------------------------------------------

    def _started(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_started_event_attributes
        entry = self._add(
            event,
            EntryKind.WORKFLOW,
            attrs.workflow_type.name,
            f"run {attrs.workflow_type.name}",
        )
        parent = attrs.parent_workflow_execution.workflow_id
        if parent:
            self._links.children[entry.id] = f"{parent}/{attrs.parent_initiated_event_id}"
            entry.peer = parent
        if self._with_start_signal:
            entry.detail = STARTED_BY_SIGNAL
        else:
            self._pending.append(entry.id)

    def _closed(self, event: HistoryEvent, attributes: str, status: str) -> None:
        entry = self._close(1, event, status)
        if entry is None:
            return
        attrs = getattr(event, attributes)
        result = self._decoded(attrs.result) if hasattr(attrs, "result") else None
        outcome = _outcome_of(result) or _failure_text(
            attrs.failure if hasattr(attrs, "failure") else None
        )
        if outcome:
            entry.detail = f"{entry.detail}; {outcome}" if entry.detail else outcome

    def _task_started(self, event: HistoryEvent) -> None:
        updates = [
            f"{self._wf}/{event_id}" for event_id in self._updates_by_task.get(event.event_id, [])
        ]
        self._current = [*self._pending, *updates]
        self._pending = []
        self._last_started = event.event_id
        self._last_started_at = event.event_time.ToDatetime(tzinfo=UTC)

    def _task_failed(self, event: HistoryEvent) -> None:
        """A failed task's commands are dropped: the next task sees what woke this one again."""
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        if attrs.started_event_id == self._last_started:
            self._pending = [*self._current, *self._pending]
            self._current = []

    def _cancel_requested(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_cancel_requested_event_attributes
        entry = self._add(
            event,
            EntryKind.CANCEL_REQUESTED,
            "cancel",
            "cancellation requested",
            status="requested",
            detail=attrs.cause or None,
        )
        self._pending.append(entry.id)

    # -- commands and what caused them ----------------------------------------------------------

    def _cause_of_command(self, event: HistoryEvent) -> str | None:
        marked = self._marked_cause(event)
        if marked is not None:
            return marked
        causes = set(self._current)
        return next(iter(causes)) if len(causes) == 1 else None

    def _marked_cause(self, event: HistoryEvent) -> str | None:
        """The SDK marks a command issued inside a signal or update handler with that message."""
        for marker in getattr(event, "event_group_markers", ()):
            variant = marker.WhichOneof("variant")
            if variant == "inbound_event":
                entry = self._entries.get(marker.inbound_event.inbound_event_id)
                if entry is not None:
                    return entry.id
            elif variant == "inbound_update":
                update = self._updates.get(marker.inbound_update.inbound_update_id)
                if update is not None:
                    return update
        return None

    def _activity_scheduled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        activity = attrs.activity_type.name
        summary = self._summary(event)
        entry = self._add(
            event,
            EntryKind.EVENT_PUBLISHED if activity == PUBLISH_ACTIVITY else EntryKind.ACTIVITY,
            activity,
            summary or activity,
            service=attrs.task_queue.name,
            caused_by=self._cause_of_command(event),
            compensation=_compensating_activity(activity),
        )
        if activity == PUBLISH_ACTIVITY:
            self._published(entry, self._envelope(self._decoded(attrs.input)))

    def _marker_recorded(self, event: HistoryEvent) -> None:
        """A local activity: it ran within the workflow task that records its marker, on the
        workflow's own worker (its queue), and woke nothing of its own. It is shown from that
        task's start to its marker (the history has no time of its own start)."""
        local = local_activity_of(event)
        if local is None:  # a patch marker: no step of the order
            return
        summary = self._summary(event)
        entry = self._add(
            event,
            EntryKind.ACTIVITY,
            local.activity_type,
            summary or local.activity_type,
            service=self._history.task_queue,
            caused_by=self._cause_of_command(event),
            compensation=_compensating_activity(local.activity_type),
            status="completed" if local.completed else "failed",
            attempts=local.attempt,
        )
        if self._last_started_at is not None:
            entry.duration = entry.at - self._last_started_at
            entry.at = self._last_started_at

    def _published(self, entry: TraceEntry, envelope: EventEnvelope | None) -> None:
        if envelope is None:
            return
        entry.name = envelope.type
        entry.what = f"publish {envelope.type}"
        entry.event_id = envelope.event_id
        entry.causation_id = envelope.causation_id
        entry.compensation = _compensating_event(envelope.type)
        self._links.published[envelope.event_id] = entry.id
        if envelope.causation_id in self._receipts:
            entry.caused_by = self._receipts[envelope.causation_id]

    def _activity_started(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_started_event_attributes
        entry = self._entries.get(attrs.scheduled_event_id)
        if entry is not None:
            entry.attempts = attrs.attempt

    def _activity_closed(self, event: HistoryEvent, attributes: str, status: str) -> None:
        attrs = getattr(event, attributes)
        entry = self._close(attrs.scheduled_event_id, event, status)
        if entry is None:
            return
        if status == "completed":
            entry.detail = _delivery_of(self._decoded(attrs.result)) if entry.event_id else None
            self._pending.append(entry.caused_by)
        elif status == "canceled":
            self._pending.append(entry.caused_by)
        else:
            entry.detail = _failure_text(attrs.failure) or status
            self._pending.append(entry.id)

    def _timer_started(self, event: HistoryEvent) -> None:
        attrs = event.timer_started_event_attributes
        summary = self._summary(event)
        name = summary or f"timer {attrs.timer_id}"
        timeout = attrs.start_to_fire_timeout.ToTimedelta()
        self._timers[attrs.timer_id] = event.event_id
        self._add(
            event,
            EntryKind.TIMER,
            name,
            f"timer: {name} ({_seconds(timeout)})",
            caused_by=self._cause_of_command(event),
        )

    def _timer_fired(self, event: HistoryEvent) -> None:
        attrs = event.timer_fired_event_attributes
        entry = self._close(attrs.started_event_id, event, "fired")
        if entry is not None:
            self._pending.append(entry.id)

    def _timer_canceled(self, event: HistoryEvent) -> None:
        self._close(event.timer_canceled_event_attributes.started_event_id, event, "canceled")

    # -- signals -------------------------------------------------------------------------------

    def _signaled(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_signaled_event_attributes
        value = self._decoded(attrs.input)
        sender = attrs.external_workflow_execution.workflow_id or None
        if attrs.signal_name == SIGNAL_EVENT:
            entry = self._event_received(event, self._envelope(value), sender)
        else:
            entry = self._add(
                event,
                EntryKind.SIGNAL_RECEIVED,
                attrs.signal_name,
                f"signal {attrs.signal_name}" + (f" from {sender}" if sender else ""),
                status="received",
                detail=_signal_detail(value),
                peer=sender,
            )
        if sender is not None:
            key = (sender, self._wf, attrs.signal_name, _payload_bytes(attrs.input))
            self._links.received_signals[entry.id] = key
        if self._with_start_signal and event.event_id == 2:
            self._links.started_by_signal[f"{self._wf}/1"] = entry.id
        self._pending.append(entry.id)

    def _event_received(
        self, event: HistoryEvent, envelope: EventEnvelope | None, sender: str | None
    ) -> TraceEntry:
        if envelope is None:
            return self._add(
                event,
                EntryKind.EVENT_RECEIVED,
                SIGNAL_EVENT,
                "receive a malformed event",
                status="received",
                peer=sender,
            )
        entry = self._add(
            event,
            EntryKind.EVENT_RECEIVED,
            envelope.type,
            f"receive {envelope.type} from {envelope.producer.value}",
            status="received",
            event_id=envelope.event_id,
            causation_id=envelope.causation_id,
            compensation=_compensating_event(envelope.type),
            peer=sender,
        )
        self._receipts.setdefault(envelope.event_id, entry.id)
        self._links.received_events[entry.id] = envelope.event_id
        return entry

    def _signal_sent(self, event: HistoryEvent) -> None:
        attrs = event.signal_external_workflow_execution_initiated_event_attributes
        target = attrs.workflow_execution.workflow_id
        entry = self._add(
            event,
            EntryKind.SIGNAL_SENT,
            attrs.signal_name,
            f"signal {attrs.signal_name} to {target}",
            detail=_signal_detail(self._decoded(attrs.input)),
            caused_by=self._cause_of_command(event),
            peer=target,
        )
        key = (self._wf, target, attrs.signal_name, _payload_bytes(attrs.input))
        self._links.sent.setdefault(key, []).append(entry.id)

    def _signal_delivered(self, event: HistoryEvent) -> None:
        attrs = event.external_workflow_execution_signaled_event_attributes
        entry = self._close(attrs.initiated_event_id, event, "delivered")
        if entry is not None:
            self._pending.append(entry.caused_by)

    def _signal_failed(self, event: HistoryEvent) -> None:
        attrs = event.signal_external_workflow_execution_failed_event_attributes
        entry = self._close(attrs.initiated_event_id, event, "failed")
        if entry is not None:
            self._pending.append(entry.id)

    # -- children ------------------------------------------------------------------------------

    def _child_initiated(self, event: HistoryEvent) -> None:
        attrs = event.start_child_workflow_execution_initiated_event_attributes
        self._add(
            event,
            EntryKind.CHILD,
            attrs.workflow_type.name,
            f"start child {attrs.workflow_type.name} {attrs.workflow_id}",
            caused_by=self._cause_of_command(event),
            peer=attrs.workflow_id,
        )

    def _child_not_started(self, event: HistoryEvent) -> None:
        attrs = event.start_child_workflow_execution_failed_event_attributes
        entry = self._close(attrs.initiated_event_id, event, "not_started")
        if entry is not None:
            self._pending.append(entry.id)

    def _child_started(self, event: HistoryEvent) -> None:
        attrs = event.child_workflow_execution_started_event_attributes
        entry = self._entries.get(attrs.initiated_event_id)
        if entry is not None:
            self._pending.append(entry.caused_by)

    def _child_closed(self, event: HistoryEvent, attributes: str, status: str) -> None:
        attrs = getattr(event, attributes)
        entry = self._close(attrs.initiated_event_id, event, status)
        if entry is None:
            return
        result = self._decoded(attrs.result) if hasattr(attrs, "result") else None
        entry.detail = _signal_detail(result) or _failure_text(getattr(attrs, "failure", None))
        self._pending.append(entry.id)

    # -- updates -------------------------------------------------------------------------------

    def _update_accepted(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_accepted_event_attributes
        request = attrs.accepted_request
        args = self._decoded(request.input.args)
        entry = self._add(
            event,
            EntryKind.UPDATE,
            request.input.name,
            f"update {request.input.name}",
            detail=_update_detail(args),
        )
        # It came with the task that accepted it: at that task's start, not at its completion,
        # which follows whatever the task ran meanwhile (a local activity, say).
        if self._last_started_at is not None:
            entry.at = self._last_started_at
        self._updates[request.meta.update_id] = entry.id

    def _update_completed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_completed_event_attributes
        outcome = attrs.outcome
        failed = outcome.WhichOneof("value") == "failure"
        entry = self._close(attrs.accepted_event_id, event, "failed" if failed else "completed")
        if entry is not None and failed:
            entry.detail = _failure_text(outcome.failure)

    # -- payloads ------------------------------------------------------------------------------

    def _decoded(self, payloads: Payloads) -> Any:
        """The first payload as JSON values; None when there is none or it does not decode."""
        if not payloads.payloads:
            return None
        try:
            return self._converter.from_payloads([payloads.payloads[0]])[0]
        except Exception:  # a payload this tool cannot read is shown without its content
            return None

    def _summary(self, event: HistoryEvent) -> str | None:
        """The summary a command was given (an activity's, a timer's), if any."""
        payload = event.user_metadata.summary  # empty when the command was given none
        if not payload.data:
            return None
        try:
            value = self._converter.from_payloads([payload])[0]
        except Exception:
            return None
        return value if isinstance(value, str) else None

    @staticmethod
    def _envelope(value: Any) -> EventEnvelope | None:
        try:
            return EventEnvelope.model_validate(value)
        except ValidationError:
            return None


# -- small readers -------------------------------------------------------------------------------


def _updates_by_task(events: Sequence[HistoryEvent]) -> dict[int, list[int]]:
    """Workflow task started event → the updates it accepted. An accepted update is written with
    the commands of the task that ran its handler, after that task started."""
    found: dict[int, list[int]] = {}
    last_started = 0
    for event in events:
        attributes = event.WhichOneof("attributes")
        if attributes == "workflow_task_started_event_attributes":
            last_started = event.event_id
        elif attributes == "workflow_execution_update_accepted_event_attributes":
            found.setdefault(last_started, []).append(event.event_id)
    return found


def _starts_with_signal(events: Sequence[HistoryEvent]) -> bool:
    """Signal-with-start: the signal is written with the start, before the first task. The start
    then wakes nothing on its own: the signal is what the first task handles."""
    return len(events) > 1 and (
        events[1].WhichOneof("attributes") == "workflow_execution_signaled_event_attributes"
    )


def _payload_bytes(payloads: Payloads) -> bytes:
    return b"".join(payload.data for payload in payloads.payloads)


def _compensating_activity(activity: str) -> bool:
    return activity in COMPENSATING_ACTIVITY_NAMES


def _compensating_event(event_type: str) -> bool:
    try:
        return ORDER_CONTRACT.spec(event_type).compensates is not None
    except (EventContractError, KeyError, ValueError):
        return False


def _failure_text(failure: Failure | None) -> str | None:
    if failure is None or not failure.message:
        return None
    info = failure.application_failure_info
    qualifiers = [info.type] if info.type else []
    if info.non_retryable:
        qualifiers.append("non-retryable")
    suffix = f" ({', '.join(qualifiers)})" if qualifiers else ""
    return f"{failure.message}{suffix}"


def _outcome_of(result: Any) -> str | None:
    """An order's outcome (`completed`, `cancelled: payment_declined`); a participant's `done`."""
    if not isinstance(result, dict):
        return None
    if "status" in result:
        reason = result.get("reason")
        return f"outcome: {result['status']}" + (f" ({reason})" if reason else "")
    if "stage" in result:
        return f"outcome: {result['stage']}"
    return None


def _delivery_of(report: Any) -> str | None:
    """A DeliveryReport, as people read it."""
    if not isinstance(report, dict):
        return None
    delivered = ", ".join(report.get("delivered_to") or []) or "nobody"
    text = f"delivered to {delivered}"
    for undelivered in report.get("undelivered") or []:
        text += f"; not to {undelivered.get('party')}: {undelivered.get('reason')}"
    return text


def _signal_detail(value: Any) -> str | None:
    """The stage of a shipment's progress (after the earlier stages it carries: `booked,
    dispatched`), the kind of a carrier report."""
    if not isinstance(value, dict):
        return None
    earlier = value.get("earlier")
    items = earlier if isinstance(earlier, list) else []
    stages = [item["stage"] for item in items if isinstance(item, dict) and "stage" in item]
    for key in ("stage", "kind"):
        if isinstance(value.get(key), str):
            return ", ".join([*(str(stage) for stage in stages), str(value[key])])
    return None


def _update_detail(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [
        f"{key} {value[key]}" for key in ("approver", "requested_by", "reason") if value.get(key)
    ]
    return ", ".join(parts) or None


def _seconds(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:g} min"
