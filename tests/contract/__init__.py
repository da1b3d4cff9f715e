"""Tests of the event contract as data: its checks, its diagram and its command.

The helpers below break the real contract one way at a time, so that each test starts from a
contract known to be sound and changes exactly what it names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domain.events.contract import ORDER_CONTRACT, Contract, EventType
from domain.events.envelope import Party


def with_event(
    event_type: EventType, contract: Contract = ORDER_CONTRACT, **update: Any
) -> Contract:
    """The contract with one event's spec changed (its reactions, flags, compensates...)."""
    events = tuple(
        spec.model_copy(update=update) if spec.type == event_type else spec
        for spec in contract.events
    )
    return contract.model_copy(update={"events": events})


def with_publishes(
    event_type: EventType,
    consumer: Party,
    publishes: tuple[EventType, ...],
    contract: Contract = ORDER_CONTRACT,
) -> Contract:
    """The contract with what `consumer` publishes in reaction to `event_type` replaced."""
    reactions = tuple(
        r.model_copy(update={"publishes": publishes}) if r.consumer == consumer else r
        for r in contract.spec(event_type).reactions
    )
    assert consumer in (r.consumer for r in reactions), f"{consumer} does not react"
    return with_event(event_type, contract, reactions=reactions)


def without_event(event_type: EventType, contract: Contract = ORDER_CONTRACT) -> Contract:
    events = tuple(spec for spec in contract.events if spec.type != event_type)
    return contract.model_copy(update={"events": events})


def with_cut(
    event_type: EventType,
    consumer: Party,
    sees: type[BaseModel] | None,
    contract: Contract = ORDER_CONTRACT,
) -> Contract:
    """The contract with what `consumer` is handed of `event_type` replaced (None: all of it)."""
    reactions = tuple(
        r.model_copy(update={"sees": sees}) if r.consumer == consumer else r
        for r in contract.spec(event_type).reactions
    )
    return with_event(event_type, contract, reactions=reactions)
