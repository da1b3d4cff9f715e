"""The hybrid style's orchestrator: the orchestrated order's lifecycle (reserve, authorize,
approve, capture, compensate, with the same saga, updates and query), but the fulfilment is not
its child: it publishes FulfilmentRequested to the warehouse's choreography and hears, as events,
that the parcel was handed over, travels, is late, arrived or was lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from temporalio import workflow

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import SIGNAL_EVENT, Party
from domain.messages.shipment import ShipmentResult, ShipmentStage
from domain.order import Order
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES, Service, Style
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome
from workflows.choreography.inbox import Inbox, Received, single_event
from workflows.choreography.participant import publish
from workflows.failures import OrderCancelledError
from workflows.orchestrated.order import OrderWorkflow

_STATUS_BY_EVENT = {
    EventType.SHIPMENT_IN_TRANSIT: (OrderStatus.IN_TRANSIT, "shipment picked_up"),
    EventType.SHIPMENT_LATE: (OrderStatus.DELIVERY_LATE, "shipment late"),
}


@workflow.defn(name=ORCHESTRATOR_WORKFLOW_TYPES[Style.HYBRID])
class HybridOrderWorkflow(OrderWorkflow):
    style = Style.HYBRID

    @workflow.init
    def __init__(self, order: Order) -> None:
        super().__init__(order)
        self._inbox = Inbox(Party.ORCHESTRATOR, order.order_id)
        self._facts: dict[EventType, Received] = {}
        self._request: Received | None = None

    @workflow.run
    async def run(self, order: Order) -> OrderOutcome:
        return await super().run(order)

    @workflow.signal(name=SIGNAL_EVENT)
    def on_event(self, *raw: Any) -> None:
        """The warehouse's events; refused ones are kept with their reason, duplicates dropped."""
        received = self._inbox.accept(single_event(raw), workflow.now())
        if received is None or not self._inbox.keep_first(received, self._facts):
            return
        change = _STATUS_BY_EVENT.get(received.type)
        if change is not None:
            self._tracker.advance_if_forward(change[0], change[1], Service.SHIPPING)
        else:
            self._tracker.record(EntryKind.EVENT, received.type.value, Service.SHIPPING)

    async def _start_shipment(self) -> Awaitable[ShipmentResult]:
        order = self._order
        fulfilment = payloads.Fulfilment(
            customer_id=order.customer.id, shipment=self._shipment_request()
        )
        await publish(
            Party.ORCHESTRATOR, order.order_id, EventType.FULFILMENT_REQUESTED, fulfilment, None
        )
        await workflow.wait_condition(
            lambda: (
                EventType.PARCEL_HANDED_OVER in self._facts
                or EventType.HANDOFF_FAILED in self._facts
            )
        )
        failed = self._facts.get(EventType.HANDOFF_FAILED)
        if failed is not None:
            assert isinstance(failed.payload, payloads.StepFailed)
            raise OrderCancelledError(failed.payload.reason, failed.payload.detail)
        handed = self._facts[EventType.PARCEL_HANDED_OVER].payload
        assert isinstance(handed, payloads.ParcelHandedOver)
        self._tracking_number = handed.tracking_number
        self._tracker.advance_if_forward(
            OrderStatus.DISPATCHED,
            "shipment dispatched",
            Service.SHIPPING,
            f"tracking number {handed.tracking_number}",
        )
        tracking_number = handed.tracking_number
        return _Later(lambda: self._fulfilment_ended(tracking_number))

    async def _fulfilment_ended(self, tracking_number: str) -> ShipmentResult:
        await workflow.wait_condition(
            lambda: (
                EventType.SHIPMENT_DELIVERED in self._facts
                or EventType.SHIPMENT_LOST in self._facts
            )
        )
        delivered = self._facts.get(EventType.SHIPMENT_DELIVERED)
        if delivered is None:
            return ShipmentResult(
                order_id=self._order.order_id,
                stage=ShipmentStage.LOST,
                tracking_number=tracking_number,
                late=True,
            )
        assert isinstance(delivered.payload, payloads.ShipmentDelivered)
        return ShipmentResult(
            order_id=self._order.order_id,
            stage=ShipmentStage.DELIVERED,
            tracking_number=tracking_number,
            delivered_at=delivered.payload.at,
            late=delivered.payload.late,
        )


class _Later(Awaitable[ShipmentResult]):
    """An awaitable that starts its coroutine only when awaited. A coroutine made now and
    awaited later is never awaited at all if the workflow is evicted from the worker's cache in
    between, and Python then warns of it; the commands issued are the same either way."""

    def __init__(self, start: Callable[[], Coroutine[Any, Any, ShipmentResult]]) -> None:
        self._start = start

    def __await__(self) -> Generator[Any, None, ShipmentResult]:
        return self._start().__await__()
