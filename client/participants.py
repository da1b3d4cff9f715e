"""What each participant of a choreographed order can tell: the events it received, published
and refused. The order view answers for the order; its peers answer only for their own part, so
a refused or duplicated event shows up here and nowhere else.

A participant exists only once an event reached it (an order declined at payment never starts
its shipping participant), so a missing one is skipped. One that does not answer its query (no
worker for its service, a broken workflow) is reported, never a reason to fail the command.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from client.orders import QUERY_TIMEOUT
from domain.events.records import QUERY_PARTICIPANT, ParticipantView
from domain.services import Service, participant_workflow_id


@dataclass(frozen=True)
class Silent:
    """A participant that exists but did not answer, and what Temporal said instead."""

    service: Service
    reason: str


@dataclass(frozen=True)
class Participants:
    answered: list[ParticipantView]
    silent: list[Silent]


async def participants_of(client: Client, order_id: str) -> list[ParticipantView]:
    """The views of the order's participants that answered; `survey` also says who did not."""
    return (await survey(client, order_id)).answered


async def survey(client: Client, order_id: str) -> Participants:
    """Ask every service's participant at once, so one silent participant costs one timeout."""
    answers = await asyncio.gather(*(_ask(client, service, order_id) for service in Service))
    return Participants(
        answered=[answer for answer in answers if isinstance(answer, ParticipantView)],
        silent=[answer for answer in answers if isinstance(answer, Silent)],
    )


async def _ask(client: Client, service: Service, order_id: str) -> ParticipantView | Silent | None:
    """The participant's view; None if it was never started; Silent if it did not answer."""
    handle = client.get_workflow_handle(participant_workflow_id(service, order_id))
    try:
        view: ParticipantView = await handle.query(
            QUERY_PARTICIPANT, result_type=ParticipantView, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        return Silent(service, f"{error.status.name}: {error.message}")
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as error:
        return Silent(service, str(error) or type(error).__name__)
    return view
