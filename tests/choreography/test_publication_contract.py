"""A participant can publish only what the contract lets it: its own events, with their payload
model, and in reaction to an event only what that reaction declares. The static checks read the
contract; this check holds the running code to it, so a handler that publishes an undeclared
event fails where it runs (its workflow task fails, naming the event), in a test first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT, EventContractError, EventType
from domain.events.envelope import Party
from tests.support import eventually
from workflows.choreography.participant import publish

AT = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_reaction_may_publish_what_it_declares() -> None:
    ORDER_CONTRACT.check_publication(
        Party.SHIPPING,
        EventType.PARCEL_PICKED_UP,
        payloads.ParcelPickedUp(at=AT),
        EventType.ORDER_CONFIRMED,
    )


@pytest.mark.parametrize(
    ("producer", "event_type", "payload", "reacting_to", "said"),
    [
        (
            Party.INVENTORY,
            EventType.PARCEL_PICKED_UP,
            payloads.ParcelPickedUp(at=AT),
            None,
            "inventory published ParcelPickedUp, which the contract has shipping publish",
        ),
        (
            Party.SHIPPING,
            EventType.PARCEL_PICKED_UP,
            payloads.ParcelDelivered(at=AT, late=False),
            None,
            "with a ParcelDelivered payload; the contract says ParcelPickedUp",
        ),
        (
            Party.SHIPPING,
            EventType.PARCEL_PICKED_UP,
            payloads.ParcelPickedUp(at=AT),
            EventType.ORDER_PLACED,
            "shipping published ParcelPickedUp in reaction to OrderPlaced; its reaction "
            "declares nothing",
        ),
    ],
    ids=["another-partys-event", "another-payload", "undeclared-reaction"],
)
def test_what_the_contract_does_not_allow_is_refused_naming_it(
    producer: Party,
    event_type: EventType,
    payload: BaseModel,
    reacting_to: EventType | None,
    said: str,
) -> None:
    with pytest.raises(EventContractError, match=said):
        ORDER_CONTRACT.check_publication(producer, event_type, payload, reacting_to)


@workflow.defn(sandboxed=False)  # a test module: nothing to keep deterministic but this
class PublishesAnotherPartysEvent:
    """A participant's code gone wrong: inventory announcing a parcel's pickup."""

    @workflow.run
    async def run(self, order_id: str) -> None:
        await publish(
            Party.INVENTORY,
            order_id,
            EventType.PARCEL_PICKED_UP,
            payloads.ParcelPickedUp(at=AT),
            None,
        )


async def test_a_participant_that_breaks_the_contract_fails_its_workflow_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client: Client = time_skipping_env.client
    queue = f"contract-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[PublishesAnotherPartysEvent]):
        handle = await client.start_workflow(
            PublishesAnotherPartysEvent.run, "order-1", id=queue, task_queue=queue
        )

        async def failure() -> str | None:
            for event in (await handle.fetch_history()).events:
                if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    return event.workflow_task_failed_event_attributes.failure.message
            return None

        message = await eventually(failure, lambda m: m is not None, what="a failed task")

    assert message is not None
    assert "inventory published ParcelPickedUp" in message
    scheduled = [
        event
        for event in (await handle.fetch_history()).events
        if event.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == [], "nothing went out"
    await handle.terminate("test over")
