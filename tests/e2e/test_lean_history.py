"""The orchestrated order's leaner history (`versions.LEAN_HISTORY`) keeps what a user sees: every
shipment stage in the order's timeline, in order, and its `OrderStatus` current; with fewer
signals from the shipment child, and a status written only when it changes, once for changes
made with no wait between them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import PayloadConverter
from temporalio.testing import WorkflowEnvironment

from client.orders import status_of
from client.scenario_runs import ScenarioRun, run_scenario
from domain import search_attributes
from domain.faults import CarrierBehaviour, Faults
from domain.messages.shipment import SIGNAL_SHIPMENT_PROGRESS
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style, order_workflow_id, shipment_workflow_id
from domain.status import OrderStatus
from domain.views import OrderView
from tests.conftest import namespace_client
from tests.replay.paths import LEAN_EVENTS, LEAN_HISTORY
from tests.replay.recorded import recorded_histories
from tests.support import PATIENCE
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e"
_HAPPY = SCENARIOS_BY_NAME["happy"]
_NO_WAITING = _HAPPY.timeouts.model_copy(update={"handling_time": timedelta(0)})
PROMPT = replace(
    _HAPPY,
    name="prompt_carrier",
    timeouts=_NO_WAITING,
    faults=Faults(carrier=CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(0))),
)
"""Picked up and delivered at once: the pickup may reach the child with the delivery."""
SLOW = replace(
    _HAPPY,
    name="slow_carrier",
    timeouts=_NO_WAITING,
    faults=Faults(
        carrier=CarrierBehaviour(
            pickup_after=timedelta(seconds=1), deliver_after=timedelta(seconds=2)
        )
    ),
)
"""Delivered two seconds after the pickup: the order shows `in_transit` meanwhile."""
SHIPMENT_STAGES = [
    "shipment booked",
    "shipment dispatched",
    "shipment picked_up",
    "shipment delivered",
    "order completed",
]


@dataclass(frozen=True)
class Order:
    run: ScenarioRun
    view: OrderView
    histories: dict[str, Sequence[HistoryEvent]]
    """workflow id -> its events"""


@pytest.fixture(scope="module")
async def orders(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Order]:
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir: Path = tmp_path_factory.mktemp("lean-history-data")
    found: dict[str, Order] = {}
    async with running_workers(client, list(Service), data_dir):
        for scenario in (PROMPT, SLOW):
            run = await run_scenario(client, scenario, Style.ORCHESTRATED, PATIENCE)
            found[scenario.name] = await _order_of(client, run)
    return found


async def _order_of(client: Client, run: ScenarioRun) -> Order:
    order_id = run.placed.order_id
    histories = {}
    for workflow_id in (order_workflow_id(order_id), shipment_workflow_id(order_id)):
        handle = client.get_workflow_handle(workflow_id)
        await handle.result()
        histories[workflow_id] = (await handle.fetch_history()).events
    return Order(run, await status_of(client, run.placed), histories)


def _status_writes(events: Sequence[HistoryEvent]) -> list[str]:
    """The `OrderStatus` values a workflow had, in order: the one it started with, if any, then
    each one written."""
    writes = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            fields = event.workflow_execution_started_event_attributes.search_attributes
        else:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        payload = fields.indexed_fields.get(search_attributes.ORDER_STATUS.name)
        if payload is not None:
            writes.append(str(PayloadConverter.default.from_payloads([payload])[0]))
    return writes


@pytest.mark.parametrize("scenario", [PROMPT.name, SLOW.name])
def test_every_shipment_stage_reaches_the_orders_timeline_in_order(
    orders: dict[str, Order], scenario: str
) -> None:
    view = orders[scenario].view
    stages = [entry.what for entry in view.timeline if entry.what in SHIPMENT_STAGES]

    assert stages == SHIPMENT_STAGES
    assert view.status is OrderStatus.COMPLETED


@pytest.mark.parametrize("scenario", [PROMPT.name, SLOW.name])
def test_the_order_hears_the_dispatch_and_at_most_the_pickup_by_signal(
    orders: dict[str, Order], scenario: str
) -> None:
    """The booking goes with the dispatch, the delivery with the result: at most the dispatch
    and the pickup are signals (a pickup that comes with the delivery is none)."""
    order = orders[scenario]
    parent = order.histories[order_workflow_id(order.run.placed.order_id)]
    signals = [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in parent
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]

    assert 1 <= signals.count(SIGNAL_SHIPMENT_PROGRESS) <= 2, signals


def test_a_parcel_that_travels_shows_in_transit_on_the_order_meanwhile(
    orders: dict[str, Order],
) -> None:
    order = orders[SLOW.name]
    writes = _status_writes(order.histories[order_workflow_id(order.run.placed.order_id)])

    assert OrderStatus.IN_TRANSIT.value in writes


@pytest.mark.parametrize("scenario", [PROMPT.name, SLOW.name])
def test_a_status_is_written_only_when_it_changes(orders: dict[str, Order], scenario: str) -> None:
    """Not the one a workflow started with (the shipment starts `dispatching`, and its booking
    is no change), nor the one written last."""
    for workflow_id, events in orders[scenario].histories.items():
        writes = _status_writes(events)

        assert all(a != b for a, b in itertools.pairwise(writes)), (workflow_id, writes)
        assert writes[-1] == OrderStatus.COMPLETED.value, (workflow_id, writes)


@pytest.mark.parametrize("scenario", [PROMPT.name, SLOW.name])
def test_changes_with_no_wait_between_them_are_one_write(
    orders: dict[str, Order], scenario: str
) -> None:
    """The payment authorized, the parcel handed to the warehouse (no handling time) and
    dispatch begun, one after the other: only the last is written."""
    order = orders[scenario]
    writes = _status_writes(order.histories[order_workflow_id(order.run.placed.order_id)])

    assert writes.count(OrderStatus.DISPATCHING.value) == 1, writes
    assert OrderStatus.PAYMENT_AUTHORIZED.value not in writes, writes
    assert OrderStatus.AWAITING_DISPATCH.value not in writes, writes


def test_no_recorded_lean_history_writes_a_status_it_already_has() -> None:
    """Every path, the cancelled and compensated ones too, in every style."""
    lean = [
        r
        for r in recorded_histories()
        if f"_{LEAN_HISTORY}-" in r.name or f"_{LEAN_EVENTS}-" in r.name
    ]
    assert lean
    for history in lean:
        writes = _status_writes(history.history.events)
        assert all(a != b for a, b in itertools.pairwise(writes)), (history.name, writes)
