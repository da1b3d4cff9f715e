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
    PinnedVersioningOverride,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkerDeploymentVersion,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes
from domain.events.contract import ORDER_CONTRACT, Contract
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope, Party
from domain.events.records import DeliveryReport, ParticipantStart, Undelivered
from domain.services import Style
from domain.status import OrderStatus


async def deliver(
    client: Client,
    envelope: EventEnvelope,
    contract: Contract = ORDER_CONTRACT,
    *,
    pinned_to: WorkerDeploymentVersion | None = None,
) -> DeliveryReport:
    """`pinned_to`: the build a participant this delivery starts is pinned to (the
    publisher's, `activities.events.EventPublisher`); None: the deployment's current one."""
    delivered: list[Party] = []
    undelivered: list[Undelivered] = []
    for party in contract.spec(envelope.type).consumers:
        handed = contract.cut_for(party, envelope)  # only what this party needs of it
        try:
            if party is Party.ORCHESTRATOR:
                await _signal_orchestrator(client, handed)
            elif party.service is None:
                undelivered.append(Undelivered(party=party, reason="it hosts no participant"))
                continue
            else:
                await signal_with_start(client, party, handed, pinned_to=pinned_to)
        except ParticipantEndedError:
            undelivered.append(
                Undelivered(party=party, reason="its workflow has ended: the event is late")
            )
            continue
        delivered.append(party)
    return DeliveryReport(
        event_id=envelope.event_id, delivered_to=delivered, undelivered=undelivered
    )


class ParticipantEndedError(Exception):
    """The workflow an event is for has ended: a late event starts nothing."""


async def signal_with_start(
    client: Client,
    party: Party,
    envelope: EventEnvelope,
    *,
    customer_id: str | None = None,
    result_type: type | None = None,
    pinned_to: WorkerDeploymentVersion | None = None,
) -> WorkflowHandle[Any, Any]:
    """Signal `party`'s participant for the envelope's order, starting it if need be.
    Raises ParticipantEndedError when that participant has already ended."""
    service = party.service
    assert service is not None, f"{party.value} hosts no participant"
    style = Style.HYBRID if party.is_warehouse else Style.CHOREOGRAPHED
    try:
        return await client.start_workflow(
            party.workflow_type,
            ParticipantStart(order_id=envelope.order_id),
            id=party.workflow_id(envelope.order_id),
            task_queue=service.task_queue,
            start_signal=SIGNAL_EVENT,
            start_signal_args=[envelope],
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=_attributes(envelope.order_id, party, style, customer_id),
            static_summary=f"{party.value} for order {envelope.order_id} ({style.value})",
            static_details=role_of(party),
            result_type=result_type,
            versioning_override=PinnedVersioningOverride(pinned_to) if pinned_to else None,
        )
    except WorkflowAlreadyStartedError as error:
        raise ParticipantEndedError from error


def role_of(party: Party, contract: Contract = ORDER_CONTRACT) -> str:
    """What the contract has this party do, for the workflow's page in the Web UI."""
    lines = [f"**{party.value}**, a participant of the {contract_name(party)}: it reacts to"]
    for spec in contract.events:
        for reaction in spec.reactions:
            if reaction.consumer is party:
                then = ", ".join(reaction.publishes) or "nothing more"
                lines.append(f"- {spec.type} (from {spec.producer}) → publishes {then}")
    return "\n".join(lines)


def contract_name(party: Party) -> str:
    return "hybrid style's warehouse" if party.is_warehouse else "choreographed style"


async def _signal_orchestrator(client: Client, envelope: EventEnvelope) -> None:
    """The hybrid style's orchestrator is running already: it only ever gets a signal."""
    handle = client.get_workflow_handle(Party.ORCHESTRATOR.workflow_id(envelope.order_id))
    try:
        await handle.signal(SIGNAL_EVENT, envelope)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # no such workflow, or it has closed
            raise ParticipantEndedError from error
        raise


def _attributes(
    order_id: str, party: Party, style: Style, customer_id: str | None
) -> TypedSearchAttributes:
    """What a participant starts with; it adds `CustomerId` once an event names the customer.
    Only the order view keeps `OrderStatus`, so a list by status shows each order once."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(search_attributes.ORDER_ID, order_id),
        SearchAttributePair(search_attributes.ORDER_STYLE, style.value),
    ]
    if customer_id is not None:
        pairs.append(SearchAttributePair(search_attributes.CUSTOMER_ID, customer_id))
    if party is Party.ORDERS:
        pairs.append(SearchAttributePair(search_attributes.ORDER_STATUS, OrderStatus.PLACED.value))
    return TypedSearchAttributes(pairs)
