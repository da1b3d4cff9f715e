"""The history counter against histories counted by hand (event ids in the comments, read from
the recorded JSON, not from the counter)."""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from insight.history_stats import HistoryStats, stats_of, total_stats
from tests.compare.histories import recorded, recorded_with


def stored_bytes(*histories: WorkflowHistory) -> int:
    return sum(len(event.SerializeToString()) for h in histories for event in h.events)


def counts(stats: HistoryStats) -> HistoryStats:
    """The counts alone (the byte size is checked against the serialized events below)."""
    return dataclasses.replace(stats, history_bytes=0)


def test_an_orchestrated_order_whose_payment_is_declined() -> None:
    assert counts(
        stats_of(recorded("orchestrated-payment_declined-OrderWorkflow").events)
    ) == HistoryStats(
        workflows=1,
        events=56,  # event ids 1 to 56
        activities=8,  # ActivityTaskScheduled 5, 11, 17, 24, 31, 37, 44, 50
        activity_attempts=8,  # their ActivityTaskStarted, each `attempt: 1`
        signals=0,
        timers=0,
    )


def test_a_choreographed_participant() -> None:
    assert counts(
        stats_of(recorded("choreographed-happy-InventoryParticipant").events)
    ) == HistoryStats(
        workflows=1,
        events=35,  # event ids 1 to 35
        activities=4,  # ActivityTaskScheduled 7, 13, 23, 29
        activity_attempts=4,
        signals=2,  # WorkflowExecutionSignaled 2 (its signal-with-start) and 19
        timers=0,
    )


def test_an_order_and_its_child_add_up() -> None:
    histories = [
        recorded("orchestrated-happy-OrderWorkflow"),
        recorded("orchestrated-happy-ShipmentWorkflow"),
    ]
    stats = total_stats(histories)
    assert stats.history_bytes == stored_bytes(*histories)
    assert counts(stats) == HistoryStats(
        workflows=2,
        events=96 + 65,  # event ids 1 to 96, and 1 to 65
        # ActivityTaskScheduled 5, 11, 17, 24, 52, 58, 64, 84, 90; and 5, 17, 35, 53
        activities=9 + 4,
        activity_attempts=9 + 4,
        # WorkflowExecutionSignaled 43, 47, 70, 75 (from the child); 30, 48 (from the carrier)
        signals=4 + 2,
        timers=1 + 2,  # TimerStarted 32; 29, 47
    )


def test_attempts_come_from_the_last_attempt_not_from_the_events() -> None:
    history = recorded_with("orchestrated-payment_declined-OrderWorkflow", {25: {"attempt": 3}})
    stats = stats_of(history.events)
    assert (stats.activities, stats.activity_attempts) == (8, 7 + 3)


def test_a_participant_handed_its_cut_receives_smaller_events() -> None:
    """Inventory's happy order, recorded before and after payloads were cut: the same two
    events (the acceptance, the dispatch), without the customer's email, the address and the
    token. (The histories also differ by what later versions added, so only the signals are
    compared; `starters.compare` measures whole orders.)"""

    def signalled(name: str) -> list[int]:
        return [
            event.ByteSize()
            for event in recorded(name).events
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        ]

    whole = signalled("choreographed-happy-InventoryParticipant")
    cut = signalled("choreographed-happy_cut_payloads-InventoryParticipant")

    assert len(cut) == len(whole) == 2
    assert [c < w for c, w in zip(cut, whole, strict=True)] == [True, True]
