"""The recorded histories the counters are checked against (`tests/replay/histories`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


def recorded(name: str) -> WorkflowHistory:
    path = HISTORIES / f"{name}.json"
    return WorkflowHistory.from_json(name, path.read_text())


def recorded_with(name: str, change: dict[int, dict[str, Any]]) -> WorkflowHistory:
    """A recorded history with some events' attributes changed: `{event id: {field: value}}`."""
    data = json.loads((HISTORIES / f"{name}.json").read_text())
    for event in data["events"]:
        for field, value in change.get(int(event["eventId"]), {}).items():
            (attributes,) = (v for k, v in event.items() if k.endswith("Attributes"))
            attributes[field] = value
    return WorkflowHistory.from_json(name, data)
