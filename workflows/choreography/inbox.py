"""A participant's inbox: the delivery rules every participant shares.

An event is taken at most once (duplicates by `event_id` are dropped), and only when it fits the
contract: known type, valid payload, this order, this party among its consumers. Anything else is
refused with a reason the `participant` query shows, never a crashed workflow.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.events.contract import ORDER_CONTRACT, Contract, EventContractError, EventType
from domain.events.envelope import ENVELOPE_TEXT_MAX, EventEnvelope, Party
from domain.events.records import EventRecord, RefusedEvent


@dataclass(frozen=True)
class Received:
    envelope: EventEnvelope
    payload: BaseModel
    received_at: datetime

    @property
    def type(self) -> EventType:
        return EventType(self.envelope.type)

    def record(self, note: str) -> EventRecord:
        return record_of(self.envelope, self.received_at, note)


def record_of(envelope: EventEnvelope, at: datetime, note: str) -> EventRecord:
    return EventRecord(
        event_id=envelope.event_id,
        type=envelope.type,
        producer=envelope.producer,
        causation_id=envelope.causation_id,
        occurred_at=envelope.occurred_at,
        received_at=at,
        note=note,
    )


class Inbox:
    def __init__(self, party: Party, order_id: str, contract: Contract = ORDER_CONTRACT) -> None:
        self.party = party
        self.order_id = order_id
        self.contract = contract
        self.pending: deque[Received] = deque()
        self.received: list[EventRecord] = []
        self.refused: list[RefusedEvent] = []
        self.duplicates_dropped = 0
        self._seen: set[str] = set()

    def accept(self, raw: Any, at: datetime) -> Received | None:
        """The event, if it is new and fits the contract; otherwise None, with the reason kept."""
        try:
            envelope = EventEnvelope.model_validate(raw)
        except ValidationError as error:
            self._refuse(at, raw, f"malformed envelope: {_first_problem(error)}")
            return None
        if envelope.event_id in self._seen:
            self.duplicates_dropped += 1
            return None
        self._seen.add(envelope.event_id)
        try:  # refused when it is not for this party, or malformed for its cut
            payload = self.contract.payload_for(self.party, envelope)
            producer = self.contract.spec(envelope.type).producer
            if envelope.producer is not producer:
                raise EventContractError(
                    f"{envelope.type} comes from {producer.value}, "
                    f"not from {envelope.producer.value}"
                )
        except EventContractError as error:
            self._refuse(at, raw, str(error))
            return None
        if envelope.order_id != self.order_id:
            self._refuse(at, raw, f"it is for order {envelope.order_id}, not {self.order_id}")
            return None
        return Received(envelope, payload, at)

    def note(self, received: Received, what: str) -> None:
        self.received.append(received.record(what))

    def keep_first(self, received: Received, facts: dict[EventType, Received]) -> bool:
        """Keep the event in `facts` if it is the first of its type; a later one is noted as
        ignored. For a workflow that folds events into facts rather than handling each."""
        if received.type in facts:
            self.note(received, f"ignored: a {received.type.value} came already")
            return False
        facts[received.type] = received
        self.note(received, "handled")
        return True

    def _refuse(self, at: datetime, raw: Any, reason: str) -> None:
        event_id = raw.get("event_id") if isinstance(raw, dict) else None
        event_type = raw.get("type") if isinstance(raw, dict) else None
        self.refused.append(
            RefusedEvent(
                received_at=at,
                # at most what an envelope may hold: a megabyte id must not make the
                # participant's query too large to answer
                event_id=event_id[:ENVELOPE_TEXT_MAX] if isinstance(event_id, str) else None,
                type=event_type[:ENVELOPE_TEXT_MAX] if isinstance(event_type, str) else None,
                reason=reason,
            )
        )


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "event"
    return f"{where}: {first['msg']}" + (
        f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    )


def single_event(args: tuple[Any, ...]) -> Any:
    """The `event` signal's handlers take any number of arguments: an event is one, and a signal
    with none or several is refused as malformed instead of a handler raising TypeError, which
    would fail every workflow task from then on."""
    return args[0] if len(args) == 1 else {"malformed": f"{len(args)} arguments, not 1"}
