"""The hybrid style on the time-skipping server: HybridOrderWorkflow (the orchestrated lifecycle)
and the warehouse's participants (picking, packing, carrier hand-off) with real workers, real
SQLite stores and the real timeouts (24 h approval window, 2 h handling, 5 day delivery deadline).
The carrier is played by the test on the skipped clock, from the reports the order's
`CarrierBehaviour` put in the shipping store's outbox at dispatch. What the order and the stores
show of a delivery, on time, late or lost, is the same in every style: it is tested once, in
tests/workflows/test_delivery_in_every_style.py; here is what only the hybrid has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import decode_typed_search_attributes
from temporalio.testing import WorkflowEnvironment

from client.orders import (
    PlacedOrder,
    order_status,
    place_order,
    send_update,
)
from domain import search_attributes
from domain.commands import UPDATE_CANCEL, Cancel
from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import SIGNAL_EVENT, Party
from domain.events.records import QUERY_PARTICIPANT, ParticipantView
from domain.faults import CarrierBehaviour, Faults
from domain.messages.shipment import ShipmentRequest
from domain.messages.shipping import CarrierEventKind
from domain.order import Order
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from tests.choreography.events import envelope
from tests.service_stores import ServiceStores
from tests.support import (
    LARGE_ORDER,
    closed_status,
    eventually,
    make_order,
    outcome_of,
    reach,
    until_dispatched,
)

WAREHOUSE = (Party.PICKING, Party.PACKING, Party.HANDOFF)


async def place(client: Client, order: Order) -> PlacedOrder:
    placed = await place_order(client, order, Style.HYBRID)
    assert placed.handle is not None, "only the starter's own handle lets time skip"
    assert placed.workflow_id == f"order-{order.order_id}"
    return placed


class Carrier:
    """The carrier on the skipped clock: it sends the reports the order's `CarrierBehaviour`
    scheduled in the shipping outbox at dispatch, each as long after the hand-over as the
    behaviour says, to the workflow the outbox names (the hand-off participant)."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        client: Client,
        stores: ServiceStores,
        order: Order,
        handed_over_at: datetime,
    ) -> None:
        self._env = env
        self._client = client
        self._stores = stores
        self._order = order
        self._handed_over_at = handed_over_at

    @classmethod
    async def at_hand_over(
        cls, env: WorkflowEnvironment, client: Client, stores: ServiceStores, order: Order
    ) -> Carrier:
        """The carrier that took the parcel now (call it once the order is dispatched)."""
        return cls(env, client, stores, order, await env.get_current_time())

    async def report(self, kind: CarrierEventKind) -> None:
        """Wait (skipping time) until the report is due, then send it."""
        shipment = self._stores.shipping.shipment(self._order.order_id)
        assert shipment is not None
        assert shipment.dispatched_at is not None
        (due,) = [r for r in self._stores.shipping.reports(self._order.order_id) if r.kind is kind]
        assert due.workflow_id == Party.HANDOFF.workflow_id(self._order.order_id)
        at = self._handed_over_at + (due.due_at - shipment.dispatched_at)
        now = await self._env.get_current_time()
        if at > now:
            await self._env.sleep(at - now)
        report = due.to_report().model_copy(update={"at": at})
        await self._client.get_workflow_handle(due.workflow_id).signal(due.signal_name, report)

    def scheduled(self) -> list[CarrierEventKind]:
        return [r.kind for r in self._stores.shipping.reports(self._order.order_id)]


async def handed_over(
    env: WorkflowEnvironment, client: Client, stores: ServiceStores, order: Order
) -> Carrier:
    """Let the real two-hour handling time pass and the warehouse hand the parcel over to the
    carrier."""
    await until_dispatched(env, client, order)
    return await Carrier.at_hand_over(env, client, stores, order)


async def warehouse_status(
    client: Client, party: Party, order_id: str
) -> WorkflowExecutionStatus | None:
    """The participant's status once it is no longer running; None if it never started."""
    return await closed_status(client, party.workflow_id(order_id))


async def participant_view(client: Client, party: Party, order_id: str) -> ParticipantView:
    handle = client.get_workflow_handle(party.workflow_id(order_id))
    view: ParticipantView = await handle.query(QUERY_PARTICIPANT, result_type=ParticipantView)
    return view


async def status_changes(client: Client, workflow_id: str) -> list[str]:
    """Every value the workflow gave its `OrderStatus` search attribute, in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    changes: list[str] = []
    for event in history.events:
        if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            attributes = event.workflow_execution_started_event_attributes.search_attributes
        elif event.event_type == HistoryEventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            attributes = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        else:
            continue
        status = decode_typed_search_attributes(attributes).get(search_attributes.ORDER_STATUS)
        if status is not None:
            changes.append(status)
    return changes


async def workflow_task_failures(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.workflow_task_failed_event_attributes.failure.message
        for event in history.events
        if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]


def whats_of(view: OrderView) -> list[str]:
    return [entry.what for entry in view.timeline]


def subsequence(wanted: list[str], within: list[str]) -> bool:
    remaining = iter(within)
    return all(item in remaining for item in wanted)


def assert_completed(outcome: OrderOutcome, *, late: bool) -> None:
    assert (outcome.status, outcome.reason, outcome.delivered_late) == ("completed", None, late)


# -- the warehouse ----------------------------------------------------------------------------


async def test_each_warehouse_step_runs_once_and_hands_the_parcel_on_to_the_next(
    time_skipping_env: WorkflowEnvironment, client: Client, stores: ServiceStores
) -> None:
    """The carrier delivers six days after pick-up, a day past the five-day deadline: the
    hand-off tells the orchestrator of the whole journey, the late delivery included. What the
    order and the stores show of it, on time or late, is in
    tests/workflows/test_delivery_in_every_style.py, for every style."""
    behaviour = CarrierBehaviour(pickup_after=timedelta(hours=3), deliver_after=timedelta(days=6))
    order = make_order(faults=Faults(carrier=behaviour))
    placed = await place(client, order)
    carrier = await handed_over(time_skipping_env, client, stores, order)
    assert carrier.scheduled() == [CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED]

    await carrier.report(CarrierEventKind.PICKED_UP)
    await reach(client, order.order_id, OrderStatus.IN_TRANSIT)
    await time_skipping_env.sleep(order.timeouts.delivery_deadline)
    await reach(client, order.order_id, OrderStatus.DELIVERY_LATE)
    await carrier.report(CarrierEventKind.DELIVERED)
    outcome = await outcome_of(client, placed)

    assert_completed(outcome, late=True)
    for party in WAREHOUSE:
        assert await warehouse_status(client, party, order.order_id) is (
            WorkflowExecutionStatus.COMPLETED
        ), party
        view = await participant_view(client, party, order.order_id)
        assert view.done, party
        kept = [KEPT_UNTIL_PACKED] if party is Party.HANDOFF else []
        assert [(r.note, r.producer) for r in view.received] == [
            *kept,
            ("handled", _upstream(party)),
        ], party
        assert (view.refused, view.duplicates_dropped) == ([], 0), party
    picking = await participant_view(client, Party.PICKING, order.order_id)
    packing = await participant_view(client, Party.PACKING, order.order_id)
    handoff = await participant_view(client, Party.HANDOFF, order.order_id)
    assert [e.type for e in picking.published] == [EventType.ITEMS_PICKED]
    assert [e.type for e in packing.published] == [EventType.PARCEL_PACKED]
    assert [e.type for e in handoff.published] == [
        EventType.PARCEL_HANDED_OVER,
        EventType.SHIPMENT_IN_TRANSIT,
        EventType.SHIPMENT_LATE,
        EventType.SHIPMENT_DELIVERED,
    ]
    # each hand-over follows from the event before it
    assert packing.received[0].event_id == picking.published[0].event_id
    assert handoff.received[-1].event_id == packing.published[0].event_id
    assert {e.causation_id for e in handoff.published} == {packing.published[0].event_id}

    order_view = await order_status(client, order.order_id)
    assert subsequence(
        ["shipment dispatched", "shipment picked_up", "shipment late", "order completed"],
        whats_of(order_view),
    )
    changes = await status_changes(client, placed.workflow_id)
    assert changes[-5:] == ["dispatching", "dispatched", "in_transit", "delivery_late", "completed"]


KEPT_UNTIL_PACKED = ("kept where the parcel goes until it is packed", Party.ORCHESTRATOR)
"""The hand-off hears the request beside picking: where the parcel goes, which picking and
packing are never handed."""


def _upstream(party: Party) -> Party:
    return {
        Party.PICKING: Party.ORCHESTRATOR,
        Party.PACKING: Party.PICKING,
        Party.HANDOFF: Party.PACKING,
    }[party]


# -- before the pivot -------------------------------------------------------------------------


async def test_an_unanswered_approval_never_wakes_the_warehouse(client: Client) -> None:
    """What is undone is in tests/workflows/test_approval_window.py, for every style."""
    order = make_order(items=LARGE_ORDER)

    outcome = await outcome_of(client, await place(client, order))

    assert outcome.reason is CancelReason.APPROVAL_TIMEOUT
    for party in WAREHOUSE:
        assert await warehouse_status(client, party, order.order_id) is None, party


async def test_a_cancel_during_the_handling_time_never_wakes_the_warehouse(
    client: Client,
) -> None:
    """What is undone is in tests/workflows/test_cancel_before_dispatch.py, for every style;
    here, what only the hybrid has: no warehouse participant starts for a cancelled order."""
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    await send_update(client, order.order_id, UPDATE_CANCEL, Cancel(requested_by="customer"))

    outcome = await outcome_of(client, placed)
    assert outcome.reason is CancelReason.CUSTOMER_CANCELLED
    for party in WAREHOUSE:
        assert await warehouse_status(client, party, order.order_id) is None, party


# -- events the orchestrator cannot take --------------------------------------------------------


def _malformed_events(order: Order) -> list[Any]:
    """Signalled to `order-<id>` as `event`: none of them fits the orchestrator's contract."""
    other_order = make_order().order_id
    delivered = payloads.ShipmentDelivered(at=datetime(2030, 1, 1, tzinfo=UTC), late=False)
    unknown = envelope(EventType.SHIPMENT_DELIVERED, order.order_id, delivered).model_dump(
        mode="json"
    )
    unknown["type"] = "ParcelTeleported"
    bad_payload = envelope(EventType.SHIPMENT_DELIVERED, order.order_id, delivered).model_dump(
        mode="json"
    )
    bad_payload["payload"] = {"at": "yesterday-ish"}
    not_for_me = envelope(
        EventType.ITEMS_PICKED,
        order.order_id,
        payloads.ItemsPicked(
            fulfilment=payloads.Fulfilment(
                customer_id=order.customer.id,
                shipment=_shipment_request(order),
            ),
            lines=1,
        ),
    )
    return [
        "not an event at all",
        None,
        ["a", "list"],
        {"event_id": "only-an-id"},
        unknown,
        bad_payload,
        not_for_me,
        envelope(EventType.SHIPMENT_DELIVERED, other_order, delivered),
        envelope(EventType.SHIPMENT_LOST, other_order, payloads.ShipmentLost(detail="not yours")),
    ]


def _shipment_request(order: Order) -> ShipmentRequest:
    return ShipmentRequest(
        order_id=order.order_id,
        customer_email=order.customer.email,
        address=order.shipping_address,
        parcels=len(order.items),
        delivery_deadline=order.timeouts.delivery_deadline,
        lost_after=order.timeouts.lost_after,
    )


async def test_malformed_events_are_refused_and_the_order_still_completes(
    time_skipping_env: WorkflowEnvironment, client: Client, stores: ServiceStores
) -> None:
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
    handle = client.get_workflow_handle(placed.workflow_id)
    before = await order_status(client, order.order_id)

    for raw in _malformed_events(order):
        await handle.signal(SIGNAL_EVENT, raw)

    after = await order_status(client, order.order_id)  # answered after every signal
    assert (after.status, after.timeline) == (before.status, before.timeline)
    carrier = await handed_over(time_skipping_env, client, stores, order)
    for raw in _malformed_events(order):  # and once more while the parcel travels
        await handle.signal(SIGNAL_EVENT, raw)
    await carrier.report(CarrierEventKind.PICKED_UP)
    await carrier.report(CarrierEventKind.DELIVERED)
    outcome = await outcome_of(client, placed)

    assert_completed(outcome, late=False)
    assert await workflow_task_failures(client, placed.workflow_id) == []
    assert stores.payments.net_captured(order.order_id) == order.total_cents
    view = await order_status(client, order.order_id)
    events = [e.what for e in view.timeline if e.kind is EntryKind.EVENT]
    assert events == [EventType.PARCEL_HANDED_OVER.value, EventType.SHIPMENT_DELIVERED.value], (
        "only the warehouse's own events are in the order's timeline"
    )
    assert subsequence(
        ["shipment dispatched", "shipment picked_up", "order completed"], whats_of(view)
    )


async def workflow_task_after_last_signal(client: Client, workflow_id: str) -> str:
    """How the workflow task that took the last signal ended: `completed`, or its failure."""
    handle = client.get_workflow_handle(workflow_id)

    async def outcome() -> str | None:
        events = (await handle.fetch_history()).events
        signalled = max(
            e.event_id
            for e in events
            if e.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        )
        for event in events:
            if event.event_id <= signalled:
                continue
            if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                return "completed"
            if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return event.workflow_task_failed_event_attributes.failure.message
        return None

    ended = await eventually(
        outcome, lambda seen: seen is not None, what=f"a workflow task of {workflow_id} ended"
    )
    assert ended is not None
    return ended


@pytest.mark.parametrize("args", [[], ["one", "two"]], ids=["no-argument", "two-arguments"])
async def test_an_event_signal_without_exactly_one_argument_is_refused_too(
    time_skipping_env: WorkflowEnvironment, client: Client, stores: ServiceStores, args: list[str]
) -> None:
    order = make_order()
    placed = await place(client, order)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    await client.get_workflow_handle(placed.workflow_id).signal(SIGNAL_EVENT, args=args)

    assert await workflow_task_after_last_signal(client, placed.workflow_id) == "completed"
    carrier = await handed_over(time_skipping_env, client, stores, order)
    await carrier.report(CarrierEventKind.PICKED_UP)
    await carrier.report(CarrierEventKind.DELIVERED)
    assert_completed(await outcome_of(client, placed), late=False)
