"""Delivery of an event to the participants that react to it: Temporal has no publish/subscribe,
so an event is a signal-with-start to each consumer's workflow (`<service>-<order id>`).

A participant's workflow id is never reused: once it has ended, signal-with-start is refused and
the event is reported undelivered instead of starting a second participant that would reserve or
charge again.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain import search_attributes
from domain.events.contract import ORDER_CONTRACT, Contract
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope, Party
from domain.events.records import DeliveryReport, ParticipantStart, Undelivered
from domain.services import (
    Service,
    Style,
    participant_workflow_id,
    participant_workflow_type,
)
from domain.status import OrderStatus


async def deliver(
    client: Client, envelope: EventEnvelope, contract: Contract = ORDER_CONTRACT
) -> DeliveryReport:
    delivered: list[Party] = []
    undelivered: list[Undelivered] = []
    for party in contract.spec(envelope.type).consumers:
        service = party.service
        if service is None:
            undelivered.append(Undelivered(party=party, reason="it hosts no participant"))
            continue
        try:
            await signal_with_start(client, service, envelope)
        except WorkflowAlreadyStartedError:
            undelivered.append(
                Undelivered(party=party, reason="its participant has ended: the event is late")
            )
            continue
        delivered.append(party)
    return DeliveryReport(
        event_id=envelope.event_id, delivered_to=delivered, undelivered=undelivered
    )


async def signal_with_start(
    client: Client,
    service: Service,
    envelope: EventEnvelope,
    *,
    customer_id: str | None = None,
    result_type: type | None = None,
) -> WorkflowHandle[Any, Any]:
    """Signal `service`'s participant for the envelope's order, starting it if need be.
    Raises WorkflowAlreadyStartedError when that participant has already ended."""
    return await client.start_workflow(
        participant_workflow_type(service),
        ParticipantStart(order_id=envelope.order_id),
        id=participant_workflow_id(service, envelope.order_id),
        task_queue=service.task_queue,
        start_signal=SIGNAL_EVENT,
        start_signal_args=[envelope],
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=_attributes(envelope.order_id, service, customer_id),
        static_summary=f"{service.value} for order {envelope.order_id} (choreographed)",
        result_type=result_type,
    )


def _attributes(order_id: str, service: Service, customer_id: str | None) -> TypedSearchAttributes:
    """What a participant starts with; it adds `CustomerId` once an event names the customer.
    Only the order view keeps `OrderStatus`, so a list by status shows each order once."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(search_attributes.ORDER_ID, order_id),
        SearchAttributePair(search_attributes.ORDER_STYLE, Style.CHOREOGRAPHED.value),
    ]
    if customer_id is not None:
        pairs.append(SearchAttributePair(search_attributes.CUSTOMER_ID, customer_id))
    if service is Service.ORDERS:
        pairs.append(SearchAttributePair(search_attributes.ORDER_STATUS, OrderStatus.PLACED.value))
    return TypedSearchAttributes(pairs)
