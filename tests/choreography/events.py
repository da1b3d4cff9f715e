"""Building events as the other participants would, and reading what a participant did with them.

Shared by the choreography tests: an envelope is made the way `Participant.publish` makes one
(payload dumped to JSON, the producer the contract names), and a participant is read through its
`participant` query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT, EventType
from domain.events.envelope import EventEnvelope, Party
from domain.events.records import QUERY_PARTICIPANT, ParticipantView
from domain.order import Order
from domain.services import Service, participant_workflow_id
from domain.status import CancelReason
from tests import support
from tests.support import eventually, status_of_workflow


def envelope(
    event_type: EventType,
    order_id: str,
    payload: BaseModel,
    *,
    event_id: str | None = None,
    causation_id: str | None = None,
) -> EventEnvelope:
    """An event as its producer in the contract would publish it."""
    return EventEnvelope(
        event_id=event_id or str(uuid.uuid4()),
        type=event_type.value,
        order_id=order_id,
        causation_id=causation_id,
        occurred_at=datetime.now(UTC),
        producer=ORDER_CONTRACT.spec(event_type).producer,
        payload=payload.model_dump(mode="json"),
    )


def order_accepted(order: Order) -> EventEnvelope:
    return envelope(EventType.ORDER_ACCEPTED, order.order_id, payloads.OrderPayload(order=order))


def stock_reserved(order: Order) -> EventEnvelope:
    units = sum(item.quantity for item in order.items)
    return envelope(
        EventType.STOCK_RESERVED, order.order_id, payloads.StockReserved(order=order, units=units)
    )


def order_cancelled(order_id: str) -> EventEnvelope:
    cancelled = payloads.OrderCancelled(
        reason=CancelReason.CUSTOMER_CANCELLED, detail="changed my mind"
    )
    return envelope(EventType.ORDER_CANCELLED, order_id, cancelled)


def shipment_dispatched(order_id: str) -> EventEnvelope:
    dispatched = payloads.ShipmentDispatched(
        customer_email="ada@example.com", tracking_number="TRK-1", carrier="ACME"
    )
    return envelope(EventType.SHIPMENT_DISPATCHED, order_id, dispatched)


def participant_handle(client: Client, service: Service, order_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(participant_workflow_id(service, order_id))


async def view_of(client: Client, service: Service, order_id: str) -> ParticipantView:
    handle = participant_handle(client, service, order_id)
    view: ParticipantView = await handle.query(QUERY_PARTICIPANT, result_type=ParticipantView)
    return view


async def view_when(
    client: Client,
    service: Service,
    order_id: str,
    ready: Callable[[ParticipantView], bool],
    within: timedelta = timedelta(seconds=15),
) -> ParticipantView:
    """Ask the participant until `ready` holds (a test that never gets there fails, not hangs)."""
    return await eventually(
        lambda: view_of(client, service, order_id),
        ready,
        what=f"{service.value} participant of {order_id} ready",
        within=within,
    )


async def status_of(
    client: Client, service: Service, order_id: str
) -> WorkflowExecutionStatus | None:
    """The participant's workflow status; None when it was never started."""
    return await status_of_workflow(client, participant_handle(client, service, order_id).id)


async def closed_status(
    client: Client,
    service: Service,
    order_id: str,
    within: timedelta = timedelta(seconds=15),
) -> WorkflowExecutionStatus | None:
    """The participant's status once it is no longer running (or None if it never existed)."""
    return await support.closed_status(
        client, participant_handle(client, service, order_id).id, within
    )


def as_party(service: Service) -> Party:
    return Party(service.value)
