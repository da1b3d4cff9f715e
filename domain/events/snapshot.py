"""The event contract as plain data, to commit and to compare a later contract with.

A snapshot holds what an event in flight depends on: each event type's producer, its
reactions (who reacts, what each may publish, the cut each is handed, if any), its flags, its
schema version and the versions its receivers read, and its payload's JSON schema.
`python -m starters.contract snapshot` writes it to `SNAPSHOT_FILE`, for a release;
`python -m starters.contract diff` compares the contract with it (`domain.events.compatibility`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from domain.events.contract import Contract, EventSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_FILE = Path("domain/events/contract_snapshot.json")
"""Where the snapshot is committed, from the project's root (also its path at a git ref)."""

Snapshot = dict[str, Any]


def snapshot_of(contract: Contract) -> Snapshot:
    return {"events": {spec.type.value: _event(spec) for spec in contract.events}}


def _event(spec: EventSpec) -> dict[str, Any]:
    return {
        "summary": spec.summary,
        "producer": spec.producer.value,
        "schema_version": spec.schema_version,
        "versions_read": list(spec.versions_read),
        "terminal": spec.terminal,
        "compensable": spec.compensable,
        "compensates": spec.compensates.value if spec.compensates else None,
        "payload": spec.payload.model_json_schema(),
        "reactions": {
            reaction.consumer.value: {
                "publishes": [event_type.value for event_type in reaction.publishes],
                "sees": reaction.sees.model_json_schema() if reaction.sees else None,
            }
            for reaction in spec.reactions
        },
    }


def render(snapshot: Snapshot) -> str:
    """Stable text: the same contract gives the same bytes, so a diff of the file reads well."""
    return json.dumps(snapshot, indent=1, sort_keys=True) + "\n"


class SnapshotError(ValueError):
    """A snapshot that cannot be read; the message says which and why."""


class _ReactionShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    publishes: list[str]
    sees: dict[str, Any] | None


class _EventShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str
    producer: str
    schema_version: int
    versions_read: list[int]
    terminal: bool
    compensable: bool
    compensates: str | None
    payload: dict[str, Any]
    reactions: dict[str, _ReactionShape]


class _SnapshotShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: dict[str, _EventShape]


def parse(text: str, where: str) -> Snapshot:
    """A snapshot read back, its shape checked: the comparison may then rely on every key."""
    try:
        snapshot = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"{where}: not JSON ({error.msg}, line {error.lineno})") from None
    try:
        shape = _SnapshotShape.model_validate(snapshot)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])[:200] or "snapshot"
        raise SnapshotError(f"{where}: not a contract snapshot ({field}: {first['msg']})") from None
    return shape.model_dump()
