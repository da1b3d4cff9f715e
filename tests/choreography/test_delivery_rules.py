"""The delivery rules every participant shares, shown on the inventory (and payments)
participant driven directly, with events built as the other participants would build them: a
duplicate is dropped, what does not fit the contract is refused with a reason and breaks nothing,
and a cancellation that comes first closes the participant so a late event reserves nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope, Party
from domain.events.records import ParticipantStart, ParticipantView
from domain.order import Order
from domain.services import Service, participant_workflow_id
from infra.event_bus import deliver
from stores.inventory import InventoryStore, ReservationState
from stores.payments import PaymentsStore, PaymentState
from tests.choreography.events import (
    envelope,
    order_accepted,
    order_cancelled,
    shipment_dispatched,
    status_of,
    stock_reserved,
    view_of,
    view_when,
)
from tests.support import TOKEN, eventually, make_order, result_of
from tests.token_traces import holds, stored_history
from workers.pool import running_workers

RUNNING = WorkflowExecutionStatus.RUNNING


@pytest.fixture
async def client(time_skipping_env: WorkflowEnvironment, data_dir: Path) -> AsyncIterator[Client]:
    """Only inventory and payments run: the events they publish reach participants that sit
    unserved, so each test sees one participant's own reactions and nothing else."""
    async with running_workers(
        time_skipping_env.client, [Service.INVENTORY, Service.PAYMENTS], data_dir
    ):
        yield time_skipping_env.client


async def start(
    client: Client, service: Service, order_id: str, first: object
) -> WorkflowHandle[Any, ParticipantView]:
    """Start the participant with its first event, as the event bus does."""
    return await client.start_workflow(
        Party(service.value).workflow_type,
        ParticipantStart(order_id=order_id),
        id=participant_workflow_id(service, order_id),
        task_queue=service.task_queue,
        start_signal=SIGNAL_EVENT,
        start_signal_args=[first],
        result_type=ParticipantView,
    )


def held(inventory: InventoryStore, order: Order) -> dict[str, int]:
    return {
        r.sku: r.quantity
        for r in inventory.reservations(order.order_id)
        if r.state is ReservationState.HELD
    }


def reserved_units(inventory: InventoryStore, order: Order) -> dict[str, int]:
    return {item.sku: inventory.stock(item.sku).reserved for item in order.items}


def handled(view: ParticipantView) -> list[tuple[str, str]]:
    return [(r.type, r.note) for r in view.received]


async def test_a_duplicate_event_is_dropped_and_stock_is_reserved_once(
    client: Client, inventory: InventoryStore
) -> None:
    order = make_order()
    accepted = order_accepted(order)
    handle = await start(client, Service.INVENTORY, order.order_id, accepted)

    await handle.signal(SIGNAL_EVENT, accepted)
    await handle.signal(SIGNAL_EVENT, accepted.model_dump(mode="json"))

    view = await view_when(
        client, Service.INVENTORY, order.order_id, lambda v: v.duplicates_dropped == 2
    )
    view = await view_when(client, Service.INVENTORY, order.order_id, lambda v: bool(v.received))
    assert handled(view) == [(EventType.ORDER_ACCEPTED, "handled")]
    assert [e.type for e in view.published] == [EventType.STOCK_RESERVED]
    assert view.refused == []
    assert held(inventory, order) == {"KB-001": 1, "MS-002": 2}
    assert reserved_units(inventory, order) == {"KB-001": 1, "MS-002": 2}


def _unknown_type(order: Order) -> object:
    raw = order_accepted(order).model_dump(mode="json")
    return {**raw, "type": "OrderTeleported"}


def _malformed_payload(order: Order) -> object:
    raw = order_accepted(order).model_dump(mode="json")
    return {**raw, "payload": {"order": {"order_id": order.order_id}}}


def _plain_string(order: Order) -> object:
    return "OrderAccepted"


def _missing_fields(order: Order) -> object:
    return {"event_id": "evt-missing-fields", "type": "OrderAccepted"}


def _another_order(order: Order) -> object:
    other = order.model_copy(update={"order_id": "someone-elses-order"})
    return envelope(EventType.ORDER_ACCEPTED, other.order_id, payloads.OrderPayload(order=other))


def _not_for_inventory(order: Order) -> object:
    authorized = payloads.PaymentAuthorized(
        authorization_id="auth-1", amount_cents=order.total_cents
    )
    return envelope(EventType.PAYMENT_AUTHORIZED, order.order_id, authorized)


def _forged_producer(order: Order) -> object:
    raw = order_accepted(order).model_dump(mode="json")
    return {**raw, "producer": "payments"}


@pytest.mark.parametrize(
    ("bad_event", "reason", "event_id", "event_type"),
    [
        pytest.param(
            _forged_producer,
            "OrderAccepted comes from orders, not from payments",
            "any",
            "OrderAccepted",
            id="forged-producer",
        ),
        pytest.param(
            _unknown_type,
            "unknown event type 'OrderTeleported'",
            "any",
            "OrderTeleported",
            id="unknown-type",
        ),
        pytest.param(
            _malformed_payload,
            "malformed OrderAccepted payload: order.customer",
            "any",
            "OrderAccepted",
            id="malformed-payload",
        ),
        pytest.param(_plain_string, "malformed envelope", None, None, id="plain-string"),
        pytest.param(
            _missing_fields,
            "malformed envelope",
            "evt-missing-fields",
            "OrderAccepted",
            id="missing-fields",
        ),
        pytest.param(
            _another_order,
            "it is for order someone-elses-order, not ",
            "any",
            "OrderAccepted",
            id="another-order",
        ),
        pytest.param(
            _not_for_inventory,
            "PaymentAuthorized is not for inventory",
            "any",
            "PaymentAuthorized",
            id="not-for-inventory",
        ),
    ],
)
async def test_an_event_that_does_not_fit_is_refused_with_a_reason_and_breaks_nothing(
    client: Client,
    inventory: InventoryStore,
    bad_event: Any,
    reason: str,
    event_id: str | None,
    event_type: str | None,
) -> None:
    order = make_order()
    bad = bad_event(order)

    handle = await start(client, Service.INVENTORY, order.order_id, bad)

    view = await view_when(client, Service.INVENTORY, order.order_id, lambda v: bool(v.refused))
    (refused,) = view.refused
    assert reason in refused.reason
    if event_id == "any":
        assert isinstance(bad, dict | EventEnvelope)
        raw = bad if isinstance(bad, dict) else bad.model_dump(mode="json")
        assert refused.event_id == raw["event_id"]
    else:
        assert refused.event_id == event_id
    assert refused.type == event_type
    assert (view.received, view.published, view.done) == ([], [], False)
    assert inventory.reservations(order.order_id) == []
    assert await status_of(client, Service.INVENTORY, order.order_id) is RUNNING

    await handle.signal(SIGNAL_EVENT, order_accepted(order))
    view = await view_when(client, Service.INVENTORY, order.order_id, lambda v: bool(v.published))
    assert held(inventory, order) == {"KB-001": 1, "MS-002": 2}
    await handle.signal(SIGNAL_EVENT, order_cancelled(order.order_id))
    final = await result_of(handle)
    assert handled(final) == [
        (EventType.ORDER_ACCEPTED, "handled"),
        (EventType.ORDER_CANCELLED, "handled"),
    ]
    assert [e.type for e in final.published] == [EventType.STOCK_RESERVED, EventType.STOCK_RELEASED]
    assert len(final.refused) == 1
    assert reserved_units(inventory, order) == {"KB-001": 0, "MS-002": 0}


async def test_cancellation_before_acceptance_closes_inventory_and_a_late_accept_reserves_nothing(
    client: Client, inventory: InventoryStore
) -> None:
    order = make_order()
    handle = await start(client, Service.INVENTORY, order.order_id, order_cancelled(order.order_id))

    view = await result_of(handle)

    assert view.done
    assert handled(view) == [(EventType.ORDER_CANCELLED, "handled")]
    assert [e.type for e in view.published] == [EventType.STOCK_RELEASED]
    report = await deliver(client, order_accepted(order))
    assert Party.INVENTORY not in report.delivered_to
    (late,) = [u for u in report.undelivered if u.party is Party.INVENTORY]
    assert "ended" in late.reason
    assert inventory.reservations(order.order_id) == []
    assert reserved_units(inventory, order) == {"KB-001": 0, "MS-002": 0}
    assert await status_of(client, Service.INVENTORY, order.order_id) is (
        WorkflowExecutionStatus.COMPLETED
    )


async def test_cancellation_before_reservation_closes_payments_and_nothing_is_ever_charged(
    client: Client, payments: PaymentsStore
) -> None:
    order = make_order()
    handle = await start(client, Service.PAYMENTS, order.order_id, order_cancelled(order.order_id))

    view = await result_of(handle)

    assert view.done
    assert [e.type for e in view.published] == [EventType.PAYMENT_VOIDED]
    report = await deliver(client, stock_reserved(order))
    assert Party.PAYMENTS not in report.delivered_to
    assert [u.party for u in report.undelivered] == [Party.PAYMENTS]
    payment = payments.payment(order.order_id)
    assert payment is not None
    assert (payment.state, payment.authorization_id) == (PaymentState.CLOSED, None)
    assert payments.ledger(order.order_id) == []
    assert payments.gateway_calls(order.order_id) == 0
    assert payments.net_captured(order.order_id) == 0


@pytest.mark.parametrize(
    ("service", "first_real_event"),
    [(Service.INVENTORY, order_accepted), (Service.PAYMENTS, stock_reserved)],
    ids=["inventory", "payments"],
)
async def test_a_dispatch_before_anything_was_held_waits_for_it_and_then_applies(
    client: Client, service: Service, first_real_event: Any
) -> None:
    order = make_order()
    await start(client, service, order.order_id, shipment_dispatched(order.order_id))

    status, view = await settled(client, service, order.order_id)

    assert status is RUNNING, f"the participant ended {status}: {view}"
    assert not view.done
    assert [e.type for e in view.waiting] == [EventType.SHIPMENT_DISPATCHED]
    report = await deliver(client, first_real_event(order))
    assert Party(service.value) in report.delivered_to
    closing = (
        EventType.STOCK_CONSUMED if service is Service.INVENTORY else EventType.PAYMENT_CAPTURED
    )
    view = await view_when(
        client, service, order.order_id, lambda v: closing in [e.type for e in v.published]
    )
    assert view.waiting == []
    assert [e.type for e in view.received] == [
        first_real_event(order).type,
        EventType.SHIPMENT_DISPATCHED,
    ]


async def settled(
    client: Client, service: Service, order_id: str
) -> tuple[WorkflowExecutionStatus | None, ParticipantView]:
    """The participant once it has dealt with its one event: noted it, refused it, or ended."""

    async def look() -> tuple[WorkflowExecutionStatus | None, ParticipantView]:
        return await status_of(client, service, order_id), await view_of(client, service, order_id)

    return await eventually(
        look,
        lambda seen: (
            seen[0] is not RUNNING or bool(seen[1].received or seen[1].refused or seen[1].waiting)
        ),
        what=f"the {service.value} participant of {order_id} dealt with its event",
        within=timedelta(seconds=10),
    )


def payloads_received(view: ParticipantView) -> list[str]:
    return [record.type for record in view.received]


async def test_payments_keeps_the_terms_from_the_acceptance_and_charges_once_stock_is_held(
    client: Client, payments: PaymentsStore
) -> None:
    """Through the bus, as the orders service publishes it: payments is handed the total and
    the token with the acceptance, inventory the lines; the reservation that follows carries no
    order, and payments authorizes with what it kept."""
    order = make_order()

    report = await deliver(client, order_accepted(order))

    assert report.delivered_to[:2] == [Party.PAYMENTS, Party.INVENTORY]
    view = await view_when(client, Service.PAYMENTS, order.order_id, lambda v: bool(v.published))
    assert payloads_received(view) == [EventType.ORDER_ACCEPTED, EventType.STOCK_RESERVED]
    assert [e.type for e in view.published] == [EventType.PAYMENT_AUTHORIZED]
    inventory_id = participant_workflow_id(Service.INVENTORY, order.order_id)
    stored = await stored_history(client, inventory_id)
    assert not holds(stored, TOKEN)  # the token never passes through inventory
    assert not holds(stored, order.customer.email)
    payment = payments.payment(order.order_id)
    assert payment is not None
    assert payment.state is PaymentState.AUTHORIZED


async def test_an_acceptance_published_whole_before_the_upgrade_still_gets_the_order_charged(
    client: Client, payments: PaymentsStore
) -> None:
    """An order accepted by an orders worker of before the cut: its acceptance went, whole, to
    inventory alone, and payments was never handed the terms. Inventory passes the order on with
    the reservation, as it did then, and payments charges it."""
    order = make_order()

    await start(client, Service.INVENTORY, order.order_id, order_accepted(order))
    await view_when(client, Service.INVENTORY, order.order_id, lambda v: bool(v.published))

    view = await view_when(client, Service.PAYMENTS, order.order_id, lambda v: bool(v.published))
    assert payloads_received(view) == [EventType.STOCK_RESERVED]
    assert [e.type for e in view.published] == [EventType.PAYMENT_AUTHORIZED]
    payment = payments.payment(order.order_id)
    assert payment is not None
    assert payment.state is PaymentState.AUTHORIZED
