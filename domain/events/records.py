"""What a participant starts from, and what it can tell about the events it received."""

from __future__ import annotations

from datetime import datetime

from domain.base import Model
from domain.events.envelope import Party
from domain.order import OrderId
from domain.services import Service

QUERY_PARTICIPANT = "participant"
"""The query every participant answers with its ParticipantView."""


class ParticipantStart(Model):
    """A participant's input: only the order it serves. Everything else comes in events."""

    order_id: OrderId


class EventRecord(Model):
    event_id: str
    type: str
    producer: Party
    causation_id: str | None
    occurred_at: datetime
    received_at: datetime
    note: str
    """What the participant did with it: `handled`, or why it changed nothing."""


class RefusedEvent(Model):
    """An event that could not be taken: unknown, malformed, for another order or party."""

    received_at: datetime
    event_id: str | None
    type: str | None
    reason: str


class ParticipantView(Model):
    service: Service
    order_id: str
    done: bool
    received: list[EventRecord]
    published: list[EventRecord]
    waiting: list[EventRecord] = []
    """Events that came before the one they follow from (a dispatch before the reservation):
    kept, and handled once that one was."""
    refused: list[RefusedEvent]
    duplicates_dropped: int


class Undelivered(Model):
    party: Party
    reason: str


class DeliveryReport(Model):
    """Where an event went. A participant that has ended takes no more events: a late event
    starts no new work, and the report says so."""

    event_id: str
    delivered_to: list[Party]
    undelivered: list[Undelivered]
