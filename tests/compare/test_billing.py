"""The billable-action counter against histories counted by hand.

Every expected number below was counted by reading the recorded JSON (event ids in the comments),
rule by rule, not by running the counter: if a rule in `insight/billing.py` changes, these say
what the published rule gives for a real history."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, MarkerRecordedEventAttributes

from insight.billing import actions_of, count_actions
from tests.compare.histories import recorded, recorded_with


def test_an_orchestrated_order_whose_payment_is_declined() -> None:
    actions = count_actions(recorded("orchestrated-payment_declined-OrderWorkflow").events)
    assert dict(actions) == {
        # event 1 WorkflowExecutionStarted, from a client (no parent): 1
        "workflow starts": 1,
        # ActivityTaskStarted 6, 12, 18, 25 (authorize_payment, then failed), 32, 38, 45, 51,
        # each `attempt: 1`: 8
        "activity attempts": 8,
        # UpsertWorkflowSearchAttributes 23, 30, 43, each of OrderStatus: 3
        "upserts": 3,
    }
    assert actions.total() == 12


def test_a_choreographed_participant_started_by_signal_with_start() -> None:
    actions = count_actions(recorded("choreographed-happy-InventoryParticipant").events)
    assert dict(actions) == {
        # event 1 WorkflowExecutionStarted, by signal-with-start: 1 for the start and its signal
        "workflow starts": 1,
        # event 2 WorkflowExecutionSignaled right after the start: that signal-with-start's own
        # signal (0); event 19, sent by a client (no externalWorkflowExecution): 1
        "signals": 1,
        # UpsertWorkflowSearchAttributes 6, of CustomerId: 1
        "upserts": 1,
        # ActivityTaskStarted 8, 14, 24, 30, each `attempt: 1`: 4
        "activity attempts": 4,
    }
    assert actions.total() == 7


def test_an_orchestrated_order_with_its_child_signalling_back() -> None:
    parent = count_actions(recorded("orchestrated-happy-OrderWorkflow").events)
    child = count_actions(recorded("orchestrated-happy-ShipmentWorkflow").events)
    assert dict(parent) == {
        "workflow starts": 1,  # event 1, from a client
        "activity attempts": 9,  # ActivityTaskStarted 6, 12, 18, 25, 53, 59, 65, 85, 91
        "upserts": 7,  # 23, 30, 31, 37, 51, 74, 83, all OrderStatus
        "timers": 1,  # TimerStarted 32
        "child workflows": 2,  # StartChildWorkflowExecutionInitiated 38: 2 by the rules
        # WorkflowExecutionSignaled 43, 47, 70, 75 all come from the child
        # (externalWorkflowExecution shipment-...): billed on the child's side, 0 here
    }
    assert dict(child) == {
        # event 1 WorkflowExecutionStarted has a parent: its start was the parent's 2, 0 here
        "activity attempts": 4,  # ActivityTaskStarted 6, 18, 36, 54
        "upserts": 4,  # 11, 23, 41, 59, all OrderStatus
        # SignalExternalWorkflowExecutionInitiated 12, 24, 42, 60 (to the parent): 4, and
        # WorkflowExecutionSignaled 30 (picked_up) and 48 (delivered), from the carrier: 2
        "signals": 6,
        "timers": 2,  # TimerStarted 29, 47
    }
    both = actions_of(
        [
            recorded("orchestrated-happy-OrderWorkflow"),
            recorded("orchestrated-happy-ShipmentWorkflow"),
        ]
    )
    assert both.total() == 20 + 16


def test_a_patch_marker_counts_and_its_version_upsert_does_not() -> None:
    actions = count_actions(
        recorded("choreographed-payment_declined-NotificationsParticipant").events
    )
    assert dict(actions) == {
        "workflow starts": 1,  # event 1, by signal-with-start (its signal, event 2: 0)
        "signals": 1,  # event 13, from a client
        # UpsertWorkflowSearchAttributes 6 (CustomerId): 1; 24 (TemporalChangeVersion alone,
        # recorded by the SDK for the patch): exempt, 0
        "upserts": 1,
        "activity attempts": 3,  # ActivityTaskStarted 8, 18, 26
        "markers": 1,  # MarkerRecorded 23 (core_patch), the only marker of workflow task 22
    }
    assert actions.total() == 7


def test_a_retried_activity_counts_every_attempt_from_its_last_started_event() -> None:
    # the declined authorization (ActivityTaskStarted 25) as if it had been tried 3 times: the
    # history still has one ActivityTaskStarted, with `attempt: 3`
    history = recorded_with("orchestrated-payment_declined-OrderWorkflow", {25: {"attempt": 3}})
    actions = count_actions(history.events)
    assert actions["activity attempts"] == 7 + 3  # the 7 other activities once, this one 3 times
    assert actions.total() == 12 + 2


def test_the_markers_of_one_workflow_task_are_one_action() -> None:
    def marker(event_id: int, workflow_task: int) -> HistoryEvent:
        return HistoryEvent(
            event_id=event_id,
            event_type=EventType.EVENT_TYPE_MARKER_RECORDED,
            marker_recorded_event_attributes=MarkerRecordedEventAttributes(
                marker_name="core_local_activity", workflow_task_completed_event_id=workflow_task
            ),
        )

    # three local activities resolved in workflow task 4, one more in workflow task 9: 1 + 1
    events = [marker(5, 4), marker(6, 4), marker(7, 4), marker(10, 9)]
    assert dict(count_actions(events)) == {"markers": 2}
