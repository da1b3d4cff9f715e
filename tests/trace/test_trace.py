"""The traces of known orders, checked step by step: which entries, in which order, and what
caused each, in the three styles, for orders that ended and one still running."""

from __future__ import annotations

import pytest

from domain.services import Style
from insight.causal_trace import EntryKind, OrderTrace, TraceEntry, trace_order
from insight.trace_render import render_mermaid, render_text
from tests.trace.conftest import Orders

pytestmark = pytest.mark.e2e


def of_kind(trace: OrderTrace, *kinds: EntryKind, workflow: str | None = None) -> list[TraceEntry]:
    return [
        entry
        for entry in trace.entries
        if entry.kind in kinds and (workflow is None or entry.workflow_id.startswith(workflow))
    ]


def one(entries: list[TraceEntry]) -> TraceEntry:
    assert len(entries) == 1, [entry.what for entry in entries]
    return entries[0]


def published(trace: OrderTrace, event_type: str) -> TraceEntry:
    return one([e for e in of_kind(trace, EntryKind.EVENT_PUBLISHED) if e.name == event_type])


def receipts(trace: OrderTrace, event_type: str) -> list[TraceEntry]:
    return [e for e in of_kind(trace, EntryKind.EVENT_RECEIVED) if e.name == event_type]


async def test_orchestrated_payment_declined_step_by_step(orders: Orders) -> None:
    trace = await orders.trace("payment_declined", Style.ORCHESTRATED)
    activities = of_kind(trace, EntryKind.ACTIVITY)

    assert [(a.name, a.service, a.compensation) for a in activities] == [
        ("record_order_placed", "orders", False),
        ("send_notification", "notifications", False),
        ("reserve_stock", "inventory", False),
        ("authorize_payment", "payments", False),
        ("reverse_payment", "payments", True),
        ("release_stock", "inventory", True),
        ("send_notification", "notifications", False),
        ("record_order_ended", "orders", False),
    ]
    assert [a.what for a in activities][4:7] == [
        "compensation: void payment",
        "compensation: release stock",
        "notify: order_cancelled",
    ]
    declined = activities[3]
    assert (declined.status, declined.attempts) == ("failed", 1)
    assert "non-retryable" in (declined.detail or "")
    start = one(of_kind(trace, EntryKind.WORKFLOW))
    assert [a.caused_by for a in activities[:4]] == [start.id] * 4
    assert [a.caused_by for a in activities[4:]] == [declined.id] * 4, "the failure caused them"
    assert all(a.status == "completed" for a in activities[4:])
    # the register is a local activity: its marker says it ran, not for how long
    assert all(a.duration is not None for a in activities[4:7])


async def test_choreographed_happy_events_follow_their_causes(orders: Orders) -> None:
    trace = await orders.trace("happy", Style.CHOREOGRAPHED)

    placed = one(receipts(trace, "OrderPlaced"))
    assert (placed.workflow_id.split("-")[0], placed.caused_by) == ("orders", None)
    accepted = published(trace, "OrderAccepted")
    assert (accepted.service, accepted.caused_by) == ("orders", placed.id)
    accepted_by = receipts(trace, "OrderAccepted")
    assert {r.service for r in accepted_by} == {"inventory", "notifications", "payments"}
    assert {r.caused_by for r in accepted_by} == {accepted.id}
    reserved = published(trace, "StockReserved")
    inventory_receipt = one([r for r in accepted_by if r.service == "inventory"])
    assert reserved.caused_by == inventory_receipt.id
    reserve = one([a for a in of_kind(trace, EntryKind.ACTIVITY) if a.name == "reserve_stock"])
    assert reserve.caused_by == inventory_receipt.id
    assert trace.entries.index(inventory_receipt) < trace.entries.index(reserve)
    assert trace.entries.index(reserve) < trace.entries.index(reserved)
    assert_every_event_matches_its_envelope(trace)
    assert not any(entry.compensation for entry in trace.entries)


def assert_every_event_matches_its_envelope(trace: OrderTrace) -> None:
    """A receipt's cause is the publish of the same event; a publish's cause is the receipt of
    the event its envelope names as its cause (in the workflow that published it)."""
    by_id = {entry.id: entry for entry in trace.entries}
    for receipt in of_kind(trace, EntryKind.EVENT_RECEIVED):
        if receipt.name == "OrderPlaced":
            continue  # the storefront publishes it: no workflow of the order did
        cause = by_id[receipt.caused_by or ""]
        assert (cause.kind, cause.event_id) == (EntryKind.EVENT_PUBLISHED, receipt.event_id)
        assert cause.at <= receipt.at
    for publish in of_kind(trace, EntryKind.EVENT_PUBLISHED):
        if publish.causation_id is None:
            continue
        cause = by_id[publish.caused_by or ""]
        assert (cause.kind, cause.event_id) == (EntryKind.EVENT_RECEIVED, publish.causation_id)
        assert cause.workflow_id == publish.workflow_id


async def test_choreographed_happy_story_goes_in_order(orders: Orders) -> None:
    trace = await orders.trace("happy", Style.CHOREOGRAPHED)
    story = [
        "OrderAccepted",
        "StockReserved",
        "PaymentAuthorized",
        "OrderConfirmed",
        "ShipmentDispatched",
        "ParcelPickedUp",
        "ParcelDelivered",
        "OrderEnded",
        "CustomerNotified",
    ]

    times = [published(trace, event_type).at for event_type in story]
    assert times == sorted(times)
    assert [entry.at for entry in trace.entries] == sorted(entry.at for entry in trace.entries)


async def test_choreographed_final_notice_is_confirmed_only_once_it_was_sent(
    orders: Orders,
) -> None:
    """CustomerNotified says the customer has the final word: the message was sent before it
    is published, and the order view records the end only after hearing it."""
    trace = await orders.trace("happy", Style.CHOREOGRAPHED)
    final = one(
        [a for a in of_kind(trace, EntryKind.ACTIVITY) if a.what == "notify: order_delivered"]
    )
    confirmed = published(trace, "CustomerNotified")
    heard = one(receipts(trace, "CustomerNotified"))
    recorded = one(
        [a for a in of_kind(trace, EntryKind.ACTIVITY) if a.name == "record_order_ended"]
    )

    assert final.duration is not None
    assert final.at + final.duration <= confirmed.at
    assert confirmed.caused_by == one(receipts(trace, "OrderEnded")).id
    assert heard.at <= recorded.at
    assert (
        trace.entries.index(final) < trace.entries.index(confirmed) < trace.entries.index(recorded)
    )


async def test_orchestrated_happy_links_the_child_and_its_signals(orders: Orders) -> None:
    trace = await orders.trace("happy", Style.ORCHESTRATED)

    child = one(of_kind(trace, EntryKind.CHILD, workflow="order-"))
    run = one(of_kind(trace, EntryKind.WORKFLOW, workflow="shipment-"))
    assert (child.name, child.status, run.caused_by) == ("ShipmentWorkflow", "completed", child.id)
    book = of_kind(trace, EntryKind.ACTIVITY, workflow="shipment-")[0]
    assert (book.name, book.caused_by) == ("book_shipment", run.id)
    handling = one(of_kind(trace, EntryKind.TIMER, workflow="order-"))
    assert (handling.name, handling.status, child.caused_by) == (
        "handling time",
        "fired",
        handling.id,
    )

    received = of_kind(trace, EntryKind.SIGNAL_RECEIVED, workflow="order-")
    # the booking travels with the dispatch, the delivery with the child's result; the pickup,
    # a second before the delivery, is a signal of its own: the order shows it meanwhile
    assert [signal.detail for signal in received] == ["booked, dispatched", "picked_up"]
    by_id = {entry.id: entry for entry in trace.entries}
    for signal in received:
        sent = by_id[signal.caused_by or ""]
        assert (sent.kind, sent.workflow_id, sent.detail) == (
            EntryKind.SIGNAL_SENT,
            run.workflow_id,
            signal.detail,
        )
        assert sent.at <= signal.at
    capture = one([a for a in of_kind(trace, EntryKind.ACTIVITY) if a.name == "capture_payment"])
    assert capture.caused_by == received[0].id, "captured because the parcel was dispatched"


async def test_hybrid_happy_crosses_from_orchestrator_to_warehouse_and_back(
    orders: Orders,
) -> None:
    trace = await orders.trace("happy", Style.HYBRID)
    chain = [
        ("FulfilmentRequested", "orchestrator", "picking"),
        ("ItemsPicked", "picking", "packing"),
        ("ParcelPacked", "packing", "handoff"),
        ("ParcelHandedOver", "handoff", "orchestrator"),
    ]

    for event_type, producer, consumer in chain:
        publish = published(trace, event_type)
        consumed_by = "order-" if consumer == "orchestrator" else consumer
        receipt = one(
            [r for r in receipts(trace, event_type) if r.workflow_id.startswith(consumed_by)]
        )
        assert publish.workflow_id.startswith("order-" if producer == "orchestrator" else producer)
        assert receipt.workflow_id.startswith("order-" if consumer == "orchestrator" else consumer)
        assert receipt.caused_by == publish.id
    assert_every_event_matches_its_envelope(trace)
    assert {e.service for e in of_kind(trace, EntryKind.EVENT_RECEIVED)} == {
        "picking",
        "packing",
        "handoff",
        "orders",  # the orchestrator, on the orders service, hears the hand-off
    }


async def test_choreographed_cancellation_marks_its_compensations(orders: Orders) -> None:
    trace = await orders.trace("customer_cancels", Style.CHOREOGRAPHED)

    update = one(of_kind(trace, EntryKind.UPDATE))
    assert (update.name, update.status) == ("cancel", "completed")
    compensations = {(e.kind, e.name) for e in trace.entries if e.compensation}
    assert compensations == {
        (EntryKind.ACTIVITY, "release_stock"),
        (EntryKind.ACTIVITY, "reverse_payment"),
        (EntryKind.EVENT_PUBLISHED, "StockReleased"),
        (EntryKind.EVENT_PUBLISHED, "PaymentVoided"),
        (EntryKind.EVENT_RECEIVED, "StockReleased"),
        (EntryKind.EVENT_RECEIVED, "PaymentVoided"),
    }
    cancelled = published(trace, "OrderCancelled")
    assert trace.entries.index(update) < trace.entries.index(cancelled)
    timer = one(of_kind(trace, EntryKind.TIMER))
    assert (timer.name, timer.status) == ("handling time", "canceled")
    assert_every_event_matches_its_envelope(trace)
    assert "compensation: release stock" in render_text(trace)
    assert "rect rgb" in render_mermaid(trace)


async def test_a_running_order_shows_its_open_approval_window(orders: Orders) -> None:
    trace = await trace_order(orders.client, orders.waiting.order_id)

    window = one(of_kind(trace, EntryKind.TIMER))
    assert (window.name, window.status, window.duration) == ("approval window", "running", None)
    view = one(of_kind(trace, EntryKind.WORKFLOW, workflow="orders-"))
    assert (view.status, view.duration) == ("running", None)
    assert published(trace, "ApprovalRequested").caused_by is not None
    assert "approval window" in render_text(trace)
