"""The hybrid style's orchestrator: the orchestrated order's lifecycle, step for step (reserve,
authorize, approve, capture, compensate, with the same saga, updates and query:
workflows/orchestrated/steps.py), but the parcel is not its child. It publishes
FulfilmentRequested to the warehouse's choreography (workflows/hybrid/warehouse.py) and hears,
as events, that the parcel was handed over, travels, is late, arrived or was lost."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from domain.commands import QUERY_STATUS
from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import SIGNAL_EVENT, Party
from domain.messages.shipment import ShipmentRequest, ShipmentResult, ShipmentStage
from domain.order import Order
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES, Service, Style
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from workflows.choreography.inbox import Inbox, Received, single_event
from workflows.choreography.participant import publish
from workflows.desk import DeskUpdates, OrderDesk
from workflows.failures import OrderCancelledError
from workflows.orchestrated.steps import OrderSteps

_STATUS_BY_EVENT = {
    EventType.SHIPMENT_IN_TRANSIT: (OrderStatus.IN_TRANSIT, "shipment picked_up"),
    EventType.SHIPMENT_LATE: (OrderStatus.DELIVERY_LATE, "shipment late"),
}


@workflow.defn(name=ORCHESTRATOR_WORKFLOW_TYPES[Style.HYBRID])
class HybridOrderWorkflow(DeskUpdates):
    @workflow.init
    def __init__(self, order: Order) -> None:
        self._steps = OrderSteps(order, Style.HYBRID)
        self._inbox = Inbox(Party.ORCHESTRATOR, order.order_id)
        self._facts: dict[EventType, Received] = {}

    @workflow.run
    async def run(self, order: Order) -> OrderOutcome:
        steps = self._steps
        if not steps.begin():
            return await steps.run_before_cancel_safety(self._until_dispatch, self._deliver)
        try:
            await steps.record_placed()
            tracking_number = await self._until_dispatch()
        except BaseException as error:  # a cancel of the workflow may come as any of several
            return await steps.stop(error)
        return await steps.past_the_pivot(self._deliver_and_end(tracking_number))

    async def _until_dispatch(self) -> str:
        steps = self._steps
        await steps.reserve_stock()
        await steps.authorize_payment()
        await steps.approve_if_needed()
        await steps.await_dispatch_slot()
        return await steps.hand_over(self._request_fulfilment)

    async def _deliver_and_end(self, tracking_number: str) -> OrderOutcome:
        return await self._steps.end(await self._deliver(tracking_number))

    async def _deliver(self, tracking_number: str) -> OrderOutcome:
        await self._steps.capture_consume_and_notify()
        return await self._steps.settle(await self._fulfilment_ended(tracking_number))

    # -- the parcel, handed to the warehouse's choreography ------------------------------------

    async def _request_fulfilment(self) -> str:
        """Publish FulfilmentRequested; return the tracking number once the parcel is handed
        over (a failed hand-off cancels the order)."""
        steps = self._steps
        order = steps.order
        fulfilment = payloads.Fulfilment(
            customer_id=order.customer.id,
            shipment=ShipmentRequest.for_order(order, steps.tracker.address),
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
        steps.tracking_number = handed.tracking_number
        steps.tracker.advance_if_forward(
            OrderStatus.DISPATCHED,
            "shipment dispatched",
            Service.SHIPPING,
            f"tracking number {handed.tracking_number}",
        )
        return handed.tracking_number

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
                order_id=self._steps.order.order_id,
                stage=ShipmentStage.LOST,
                tracking_number=tracking_number,
                late=True,
            )
        assert isinstance(delivered.payload, payloads.ShipmentDelivered)
        return ShipmentResult(
            order_id=self._steps.order.order_id,
            stage=ShipmentStage.DELIVERED,
            tracking_number=tracking_number,
            delivered_at=delivered.payload.at,
            late=delivered.payload.late,
        )

    @workflow.signal(name=SIGNAL_EVENT)
    def on_event(self, *raw: Any) -> None:
        """The warehouse's events; refused ones are kept with their reason, duplicates dropped.
        The warehouse only speaks of an order once it was asked to ship it: an event that comes
        before dispatch began (from the Temporal CLI, say: a signal cannot be refused) is
        dropped and logged, or a forged "handed over" would later pass for the real one."""
        tracker = self._steps.tracker
        if not tracker.status.is_past_dispatch:
            workflow.logger.warning(
                "order %s: a warehouse event dropped: it came while the order is %s, before "
                "the warehouse was asked for anything",
                self._steps.order.order_id,
                tracker.status.value,
            )
            return
        received = self._inbox.accept(single_event(raw), workflow.now())
        if received is None or not self._inbox.keep_first(received, self._facts):
            return
        change = _STATUS_BY_EVENT.get(received.type)
        if change is not None:
            tracker.advance_if_forward(change[0], change[1], Service.SHIPPING)
        else:
            tracker.record(EntryKind.EVENT, received.type.value, Service.SHIPPING)

    # -- what people ask (the updates: DeskUpdates) and read -------------------------------------

    def _open_desk(self) -> OrderDesk:
        return self._steps.desk

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> OrderView:
        return self._steps.tracker.view()
