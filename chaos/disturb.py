"""What the run does to an order besides placing it: plays the scenario's person, and the
disturbance its plan drew (a workflow cancelled early or after the pivot, people's requests
at random moments, some two at once, a published event delivered again).

Refusals are expected: an order that can no longer be cancelled says so, and that is the order
doing its job. Every step of this module goes through the same client calls the command-line
tools use (`client.orders`, the scenario player, the event bus), tried again while the
server or a worker is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from chaos.plan import Disturbance, OrderPlan
from chaos.resilience import is_transient, patiently
from chaos.tally import Tally
from chaos.tracker import Tracker
from client.orders import PlacedOrder, update_order
from client.scenario_player import play_actor
from domain import search_attributes
from domain.commands import (
    UPDATE_APPROVE,
    UPDATE_CANCEL,
    UPDATE_CHANGE_ADDRESS,
    UPDATE_REJECT,
    Approve,
    Cancel,
    ChangeAddress,
    Reject,
)
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope
from domain.order import Address
from domain.status import OrderStatus
from infra.cli import RefusedError
from infra.event_bus import deliver
from insight.order_histories import history_of, workflows_of

STAGE_POLL = timedelta(milliseconds=500)
"""How often a disturbance that waits for a stage looks at the order."""
REQUEST_PATIENCE = timedelta(seconds=60)
"""How long a request may go unanswered (an update waits for a worker to take it)."""
ACTOR_PATIENCE = timedelta(minutes=3)
"""The scenario's person: the player's own patience, and the outages of the run on top."""

CHAOS_ADDRESS = Address(
    recipient="Grace Hopper",
    line1="2 Harbor Way",
    city="Boston",
    postal_code="02110",
    country="US",
)

REQUEST_BODIES: dict[str, BaseModel] = {
    UPDATE_APPROVE: Approve(approver="chaos-approver", comment="approved by the chaos run"),
    UPDATE_REJECT: Reject(approver="chaos-approver", reason="rejected by the chaos run"),
    UPDATE_CANCEL: Cancel(requested_by="customer", reason="cancelled by the chaos run"),
    UPDATE_CHANGE_ADDRESS: ChangeAddress(address=CHAOS_ADDRESS),
}


@dataclass(frozen=True)
class Standing:
    """Where the order stands, as its workflow's `OrderStatus` search attribute says: the server
    answers that alone, where a query would need a worker (and the run kills them)."""

    status: OrderStatus | None
    running: bool

    @property
    def over(self) -> bool:
        return not self.running or (self.status is not None and self.status.is_final)


@dataclass(frozen=True)
class Hands:
    """What a disturbance acts with, and where it writes down what it did."""

    client: Client
    tracker: Tracker
    tally: Tally
    seed: int

    def rng(self, plan: OrderPlan, purpose: str) -> random.Random:
        """A generator for one choice made about one order, from the run's seed."""
        return random.Random(f"{self.seed}:{plan.order_id}:{purpose}")


async def play_person(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> None:
    """The scenario's own person (approver, customer, operator), as the demo plays them, on the
    run's client (its queries and updates outlast the outages: `resilience.outlasting`). Not
    tried again as a whole: a person who acted once must not start over. When they could not
    act (the order was cancelled first, say), why, for the report."""
    try:
        async with asyncio.timeout(ACTOR_PATIENCE.total_seconds()):
            await play_actor(hands.client, plan.scenario, placed)
    except RefusedError as error:
        if is_transient(error):  # the outage outlasted the retries
            hands.tally.actor_failures[plan.order_id] = str(error)
        else:
            hands.tally.actor_refusals[plan.order_id] = str(error)
    except TimeoutError:  # the order never reached the person's stage: its doing, not an outage
        hands.tally.actor_refusals[plan.order_id] = "the order never reached the stage to act at"


async def disturb(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> None:
    """The plan's disturbance; counted as acted, or as overtaken (the order settled, or never
    reached the stage it waits for). Cancelled when the order settles: it counts as neither."""
    kind = plan.disturbance
    if kind is Disturbance.NONE:
        return
    acted = await _DISTURBANCES[kind](hands, plan, placed)
    (hands.tally.acted if acted else hands.tally.overtaken)[kind.value] += 1


async def standing_of(client: Client, placed: PlacedOrder) -> Standing:
    try:
        description = await patiently(
            lambda: client.get_workflow_handle(placed.workflow_id).describe()
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return Standing(None, running=False)
        raise
    value = description.typed_search_attributes.get(search_attributes.ORDER_STATUS)
    running = description.status == WorkflowExecutionStatus.RUNNING
    return Standing(_status(value), running=running)


def _status(value: str | None) -> OrderStatus | None:
    try:
        return OrderStatus(value) if value is not None else None
    except ValueError:  # a status this run does not know: it cannot be waited for
        return None


async def _cancel_early(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    if await hands.tracker.until_settled(plan.order_id, plan.delay):
        return False
    return await _cancel_workflow(hands, plan, placed)


async def _cancel_after_pivot(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    standing = await _until(hands, plan, placed, lambda status: status.is_past_dispatch)
    if standing.status is None or not standing.status.is_past_dispatch:
        return False
    return await _cancel_workflow(hands, plan, placed)


async def _cancel_workflow(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    """`handle.cancel()`, as an operator in the Web UI would: on the workflow that owns the
    order, or on another of its workflows when the plan says so. Counted by where the order
    stood when the request went out."""
    standing = await standing_of(hands.client, placed)
    if standing.over:
        hands.tally.cancels["too_late"] += 1
        return False
    target = _cancel_target(hands, plan, placed)
    try:
        await patiently(lambda: hands.client.get_workflow_handle(target).cancel())
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:  # it closed meanwhile
            raise
        hands.tally.cancels["too_late"] += 1
        return False
    past = standing.status is not None and standing.status.is_past_dispatch
    hands.tally.cancels["after_pivot" if past else "before_pivot"] += 1
    if target != placed.workflow_id:
        hands.tally.cancels["of_another_workflow"] += 1
    return True


def _cancel_target(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> str:
    others = sorted(
        workflow.workflow_id
        for workflow in hands.tracker.running
        if workflow.order_id == plan.order_id and workflow.workflow_id != placed.workflow_id
    )
    if plan.other_workflow and others:
        return hands.rng(plan, "cancel target").choice(others)
    return placed.workflow_id


async def _request(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    if await hands.tracker.until_settled(plan.order_id, plan.delay):
        return False
    await _send(hands, plan, placed, plan.request)
    return True


async def _approve_and_reject(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    """Two approvers at once: at most one decision may be taken."""
    if plan.needs_approval:
        await _until(hands, plan, placed, lambda status: status is OrderStatus.AWAITING_APPROVAL)
    elif await hands.tracker.until_settled(plan.order_id, plan.delay):
        return False
    approved, rejected = await asyncio.gather(
        _send(hands, plan, placed, UPDATE_APPROVE), _send(hands, plan, placed, UPDATE_REJECT)
    )
    if approved and rejected:
        hands.tally.conflicting_decisions.append(plan.order_id)
    return True


async def _cancel_twice(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    if await hands.tracker.until_settled(plan.order_id, plan.delay):
        return False
    await asyncio.gather(
        _send(hands, plan, placed, UPDATE_CANCEL), _send(hands, plan, placed, UPDATE_CANCEL)
    )
    return True


async def _send(hands: Hands, plan: OrderPlan, placed: PlacedOrder, update: str) -> bool:
    """Whether the order accepted the request. A refusal is counted, not raised."""
    requests = hands.tally.requests
    request = REQUEST_BODIES[update]
    try:
        async with asyncio.timeout(REQUEST_PATIENCE.total_seconds()):
            await patiently(lambda: update_order(hands.client, placed, update, request))
    except RefusedError:
        requests["refused"] += 1
        return False
    except TimeoutError:
        requests["unanswered"] += 1
        hands.tally.request_errors.append(
            f"order {plan.order_id}: {update} unanswered within {REQUEST_PATIENCE}"
        )
        return False
    except Exception as error:  # neither done nor refused: the report names what it met
        requests["failed"] += 1
        hands.tally.request_errors.append(f"order {plan.order_id}: {update}: {error!r}")
        return False
    requests["accepted"] += 1
    return True


async def _redeliver(hands: Hands, plan: OrderPlan, placed: PlacedOrder) -> bool:
    """Deliver one of the order's published events again, with its own event id, to every
    party that reacts to it: a publish activity retried after it had delivered does the same.
    A participant must drop it as a duplicate; one that has ended refuses it as late."""
    if await hands.tracker.until_settled(plan.order_id, plan.delay):
        return False
    envelopes = await patiently(lambda: _received_events(hands.client, plan.order_id))
    if not envelopes:
        return False
    envelope = hands.rng(plan, "redelivery").choice(envelopes)
    report = await patiently(lambda: deliver(hands.client, envelope))
    hands.tally.redelivered += 1
    hands.tally.redelivered_to += len(report.delivered_to)
    hands.tally.redelivery_refused_late += len(report.undelivered)
    return True


async def _received_events(client: Client, order_id: str) -> list[EventEnvelope]:
    """Every event the order's workflows have received so far, as it arrived (its `event`
    signal), oldest workflow first."""
    found: list[EventEnvelope] = []
    converter = client.data_converter.payload_converter
    for execution in await workflows_of(client, order_id):
        history = (await history_of(client, execution)).history
        for event in history.events:
            if not event.HasField("workflow_execution_signaled_event_attributes"):
                continue
            signal = event.workflow_execution_signaled_event_attributes
            if signal.signal_name != SIGNAL_EVENT or not signal.input.payloads:
                continue
            with contextlib.suppress(Exception):  # a malformed one is no event to re-deliver
                raw = converter.from_payloads([signal.input.payloads[0]])[0]
                found.append(EventEnvelope.model_validate(raw))
    return found


async def _until(
    hands: Hands, plan: OrderPlan, placed: PlacedOrder, wanted: Callable[[OrderStatus], bool]
) -> Standing:
    """Until the order reaches a wanted status, ends, or settles, whichever comes first;
    where it stands then."""
    while True:
        standing = await standing_of(hands.client, placed)
        if standing.over or (standing.status is not None and wanted(standing.status)):
            return standing
        if hands.tracker.is_settled(plan.order_id):
            return standing
        await asyncio.sleep(STAGE_POLL.total_seconds())


Act = Callable[[Hands, OrderPlan, PlacedOrder], Awaitable[bool]]
"""A disturbance: whether it acted."""

_DISTURBANCES: dict[Disturbance, Act] = {
    Disturbance.CANCEL_EARLY: _cancel_early,
    Disturbance.CANCEL_AFTER_PIVOT: _cancel_after_pivot,
    Disturbance.REQUEST: _request,
    Disturbance.APPROVE_AND_REJECT: _approve_and_reject,
    Disturbance.CANCEL_TWICE: _cancel_twice,
    Disturbance.REDELIVER: _redeliver,
}
