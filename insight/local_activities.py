"""Local activities as a history shows them: one marker each, where an activity has three events.

Whoever reads a history for what ran (the causal trace, the counts of the comparison, the tests
that match logs and spans to activities) reads these markers too, or a step run as a local
activity (the orders register, a carrier's report) would seem never to have run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import PayloadConverter

LOCAL_ACTIVITY_MARKER: Final = "core_local_activity"
"""The marker name the SDK's core gives a local activity's outcome."""
_MARKER_DATA: Final = "data"
"""The marker's detail that names the activity: JSON that core writes itself (never encoded)."""
_MARKER_RESULT: Final = "result"


@dataclass(frozen=True)
class LocalActivityRun:
    """One local activity, from its marker."""

    activity_type: str
    attempt: int
    completed: bool
    """False: it failed (the marker carries the failure)."""
    result: Sequence[Payload]
    """What it returned, as the payloads the worker wrote (empty for None or a failure)."""


def local_activity_of(event: HistoryEvent) -> LocalActivityRun | None:
    """The local activity a marker event stands for; None for any other event."""
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or _MARKER_DATA not in marker.details:
        return None
    (data,) = PayloadConverter.default.from_payloads(marker.details[_MARKER_DATA].payloads)
    return LocalActivityRun(
        activity_type=str(data["activity_type"]),
        attempt=max(int(data.get("attempt") or 1), 1),
        completed=not marker.HasField("failure"),
        result=list(marker.details[_MARKER_RESULT].payloads)
        if _MARKER_RESULT in marker.details
        else [],
    )
