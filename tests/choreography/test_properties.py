"""Property: whatever order the inventory participant's events come in, duplicated or late, the
real inventory store stays consistent and the order's stock ends released or consumed, once.

One time-skipping server and one inventory worker serve every example (a fresh order id each);
every event goes through the event bus (`infra.event_bus.deliver`), as in production, so an event
that comes after the participant has ended is refused at delivery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client, WorkflowExecutionStatus

from domain.events.contract import EventType
from domain.events.envelope import EventEnvelope, Party
from domain.events.records import ParticipantView
from domain.messages.audit import AuditRule
from domain.order import LineItem, Order
from domain.services import Service
from infra.event_bus import deliver
from infra.search_attributes import ensure_search_attributes
from infra.server_start import start_time_skipping_server
from stores import store_path
from stores.audit import audit_stores
from stores.inventory import InventoryStore, ReservationState
from tests.choreography.events import (
    closed_status,
    order_accepted,
    order_cancelled,
    shipment_dispatched,
    view_when,
)
from tests.support import make_order
from workers.pool import running_workers

ACCEPTED, CANCELLED, DISPATCHED = (
    EventType.ORDER_ACCEPTED,
    EventType.ORDER_CANCELLED,
    EventType.SHIPMENT_DISPATCHED,
)
SKUS = ("KB-001", "MS-002")
STOCK_RULES = {
    AuditRule.STOCK_NOT_NEGATIVE,
    AuditRule.RESERVED_WITHIN_ON_HAND,
    AuditRule.RESERVED_MATCHES_HOLDS,
}


@dataclass
class Bench:
    client: Client
    data_dir: Path
    inventory: InventoryStore


@pytest.fixture(scope="module")
async def bench(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bench]:
    env = await start_time_skipping_server()
    data_dir = tmp_path_factory.mktemp("choreography-properties")
    try:
        await ensure_search_attributes(env.client)
        async with running_workers(env.client, [Service.INVENTORY], data_dir):
            inventory = InventoryStore(store_path(data_dir, Service.INVENTORY))
            yield Bench(env.client, data_dir, inventory)
    finally:
        await env.shutdown()


@st.composite
def deliveries(draw: st.DrawFn) -> list[EventType]:
    """The acceptance and one or both closing events, each delivered one to three times (a
    re-delivery keeps its event id), in any order: even a dispatch before the acceptance it
    follows from, which the participant keeps until the acceptance came."""
    closers = draw(st.sampled_from([(CANCELLED,), (DISPATCHED,), (CANCELLED, DISPATCHED)]))
    copies = [kind for kind in (ACCEPTED, *closers) for _ in range(draw(st.integers(1, 3)))]
    return list(draw(st.permutations(copies)))


@dataclass
class Expected:
    """What the inventory should do with the deliveries, event by event."""

    delivered: list[bool] = field(default_factory=list)
    duplicates: int = 0
    reserved: bool = False
    closed_by: EventType | None = None
    dispatch_waiting: bool = False
    ignored: int = 0
    """Events noted as ignored: a dispatch that waited for an acceptance that never came."""

    @classmethod
    def of(cls, kinds: list[EventType]) -> Expected:
        expected = cls()
        seen: set[EventType] = set()
        for kind in kinds:
            expected.delivered.append(expected.closed_by is None)
            if expected.closed_by is not None:
                continue
            if kind in seen:
                expected.duplicates += 1
                continue
            seen.add(kind)
            if kind is ACCEPTED:
                expected.reserved = True
                if expected.dispatch_waiting:  # the early dispatch applies now
                    expected.dispatch_waiting = False
                    expected.closed_by = DISPATCHED
            elif kind is DISPATCHED and not expected.reserved:
                expected.dispatch_waiting = True
            else:
                expected.closed_by = kind
        if expected.dispatch_waiting:  # closed before the acceptance came: never applied
            expected.ignored += 1
        return expected

    @property
    def consumed(self) -> bool:
        return self.closed_by is DISPATCHED

    @property
    def published(self) -> list[EventType]:
        reserved = [EventType.STOCK_RESERVED] if self.reserved else []
        closing = EventType.STOCK_CONSUMED if self.consumed else EventType.STOCK_RELEASED
        return [*reserved, closing]


def stock_consistent(bench: Bench) -> None:
    violations = [v for v in audit_stores(bench.data_dir).violations if v.rule in STOCK_RULES]
    assert violations == []


def units(view: ParticipantView) -> int:
    return len(view.received) + len(view.waiting) + len(view.refused) + view.duplicates_dropped


async def settle(bench: Bench, order: Order, taken: int) -> None:
    """Wait until the participant has accounted for `taken` events, and, once its part is done,
    until its workflow has closed (so that the next event meets a participant that has ended)."""
    view = await view_when(
        bench.client, Service.INVENTORY, order.order_id, lambda v: units(v) >= taken
    )
    if view.done:
        await closed_status(bench.client, Service.INVENTORY, order.order_id)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kinds=deliveries(), quantity=st.integers(min_value=1, max_value=5))
async def test_inventory_holds_stock_at_most_once_and_ends_released_or_consumed(
    bench: Bench, kinds: list[EventType], quantity: int
) -> None:
    order = make_order(
        items=(
            LineItem(sku="KB-001", quantity=quantity, unit_price_cents=8_900),
            LineItem(sku="MS-002", quantity=1, unit_price_cents=2_900),
        )
    )
    wanted = {"KB-001": quantity, "MS-002": 1}
    before = {sku: bench.inventory.stock(sku) for sku in SKUS}
    events: dict[EventType, EventEnvelope] = {
        ACCEPTED: order_accepted(order),
        CANCELLED: order_cancelled(order.order_id),
        DISPATCHED: shipment_dispatched(order.order_id),
    }
    expected = Expected.of(kinds)

    delivered: list[bool] = []
    for kind in kinds:
        report = await deliver(bench.client, events[kind])
        delivered.append(Party.INVENTORY in report.delivered_to)
        if delivered[-1]:
            await settle(bench, order, delivered.count(True))
        stock_consistent(bench)
        holds = {r.sku: r.quantity for r in bench.inventory.reservations(order.order_id)}
        assert all(holds[sku] == wanted[sku] for sku in holds), "held more than once"

    assert delivered == expected.delivered, "a late event must be refused at delivery"
    status = await closed_status(bench.client, Service.INVENTORY, order.order_id)
    assert status is WorkflowExecutionStatus.COMPLETED
    view = await view_when(bench.client, Service.INVENTORY, order.order_id, lambda v: v.done)
    assert view.duplicates_dropped == expected.duplicates
    assert view.refused == []
    assert [e.type for e in view.published] == expected.published
    notes = [r.note for r in view.received]
    assert notes.count("handled") == len(notes) - expected.ignored
    assert notes.count("ignored: this participant is done") == expected.ignored

    states = {r.state for r in bench.inventory.reservations(order.order_id)}
    after = {sku: bench.inventory.stock(sku) for sku in SKUS}
    assert all(after[sku].reserved == before[sku].reserved for sku in SKUS), "stock still held"
    if not expected.reserved:
        assert states == set()
    elif expected.consumed:
        assert states == {ReservationState.CONSUMED}
    else:
        assert states == {ReservationState.RELEASED}
    consumed = {sku: before[sku].on_hand - after[sku].on_hand for sku in SKUS}
    assert consumed == (wanted if expected.consumed else dict.fromkeys(SKUS, 0))
    if CANCELLED in kinds and (
        DISPATCHED not in kinds or kinds.index(CANCELLED) < kinds.index(DISPATCHED)
    ):
        assert ReservationState.CONSUMED not in states
        assert set(consumed.values()) == {0}
