"""The orders service's part, and the order's view: it accepts the order, holds the order's own
rules and timers (the approval window, the handling time before dispatch), publishes the
decisions they lead to, and records every event of the order for the status query.

It calls no other service: it learns what they did from their events, and they learn its
decisions from its events. People talk to it as to the orchestrated order: the same updates with
the same validators, the same `status` query.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.commands import (
    QUERY_STATUS,
    UPDATE_APPROVE,
    UPDATE_CANCEL,
    UPDATE_CHANGE_ADDRESS,
    UPDATE_REJECT,
    Approve,
    Cancel,
    ChangeAddress,
    Reject,
)
from domain.events import payloads as p
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.records import ParticipantStart
from domain.messages.shipment import ShipmentRequest
from domain.money import format_cents
from domain.order import Order
from domain.policy import needs_approval
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant
from workflows.choreography.versions import CONFIRMS_FINAL_NOTICE
from workflows.desk import UPDATE_REFUSED, OrderDesk
from workflows.failures import OrderCancelledError
from workflows.saga import forward_only
from workflows.services import orders
from workflows.tracking import OrderTracker

E = EventType

_STATUS_BY_EVENT = {
    E.STOCK_RESERVED: OrderStatus.STOCK_RESERVED,
    E.PAYMENT_AUTHORIZED: OrderStatus.PAYMENT_AUTHORIZED,
    E.SHIPMENT_DISPATCHED: OrderStatus.DISPATCHED,
    E.PARCEL_PICKED_UP: OrderStatus.IN_TRANSIT,
    E.DELIVERY_LATE: OrderStatus.DELIVERY_LATE,
}
"""The events that move the order's status forward, while it is still going forward."""

_PROGRESS = list(OrderStatus)


@workflow.defn(name="OrdersParticipant")
class OrdersParticipant(Participant):
    party = Party.ORDERS

    @workflow.init
    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._facts: dict[EventType, Received] = {}
        self._last: Received | None = None
        self._order: Order | None = None
        self._tracker: OrderTracker | None = None
        self._desk: OrderDesk | None = None
        self._ended = False

    @workflow.run
    async def run(self, start: ParticipantStart) -> OrderOutcome:
        placed = await self._fact(E.ORDER_PLACED)
        assert isinstance(placed.payload, p.OrderPayload)
        order = placed.payload.order
        tracker = self._begin(order)
        await orders.record_order_placed(order, Style.CHOREOGRAPHED)
        await self.publish(E.ORDER_ACCEPTED, p.OrderPayload(order=order), placed)
        try:
            outcome = await self._until_the_end(order, tracker)
        except asyncio.CancelledError:
            await self._compensate(
                OrderCancelledError(CancelReason.WORKFLOW_CANCELLED, "the workflow was cancelled")
            )
            await self._end(self._cancelled_outcome())
            raise
        await self._end(outcome)
        return outcome

    def _begin(self, order: Order) -> OrderTracker:
        self._order = order
        self._tracker = OrderTracker(order, Style.CHOREOGRAPHED)
        self._desk = OrderDesk(order.order_id, self._tracker)
        self._tracker.start()
        for received in self._facts.values():  # anything that came before the order itself
            self._observe(received)
        return self._tracker

    # -- the order's life, as the events tell it -----------------------------------------------

    async def _until_the_end(self, order: Order, tracker: OrderTracker) -> OrderOutcome:
        try:
            authorized = await self._until_dispatch_slot(order)
        except OrderCancelledError as cancelled:
            await self._compensate(cancelled)
            return self._cancelled_outcome()
        # The pivot: from here on the order only goes forward, even if its workflow is cancelled.
        return await forward_only(self._ship(order, tracker, authorized), self._note_ignored_cancel)

    async def _ship(
        self, order: Order, tracker: OrderTracker, authorized: Received
    ) -> OrderOutcome:
        await self._confirm(order, tracker, authorized)
        dispatched = await self._first_of(E.SHIPMENT_DISPATCHED, E.SHIPMENT_FAILED)
        if dispatched.type is E.SHIPMENT_FAILED:
            await self._compensate(_failure(dispatched))
            return self._cancelled_outcome()
        ending = await self._first_of(E.PARCEL_DELIVERED, E.PARCEL_LOST)
        await self._facts_of(E.PAYMENT_CAPTURED, E.STOCK_CONSUMED)
        if ending.type is E.PARCEL_LOST:
            refund = await self._fact(E.PAYMENT_REFUNDED)
            assert isinstance(refund.payload, p.PaymentReversed)
            tracker.record(
                EntryKind.STEP,
                "payment refunded",
                Service.PAYMENTS,
                f"{refund.payload.action} {format_cents(refund.payload.amount_cents)}",
            )
            tracker.cancelled(CancelReason.LOST_IN_TRANSIT, "the carrier lost the parcel")
            return self._cancelled_outcome()
        assert isinstance(ending.payload, p.ParcelDelivered)
        late = ending.payload.late
        detail = "delivered late" if late else "delivered on time"
        tracker.advance(OrderStatus.COMPLETED, "order completed", Service.ORDERS, detail)
        return OrderOutcome(
            order_id=order.order_id,
            status="completed",
            total_cents=order.total_cents,
            delivered_late=late,
        )

    async def _until_dispatch_slot(self, order: Order) -> Received:
        """Before the pivot: any failure or request to cancel ends here, to be compensated.
        Returns the payment authorization the confirmation follows from."""
        desk = self._desk
        assert desk is not None
        reserved = await self._first_of(E.STOCK_RESERVED, E.STOCK_RESERVATION_FAILED, cancel=True)
        if reserved.type is E.STOCK_RESERVATION_FAILED:
            raise _failure(reserved)
        authorized = await self._first_of(E.PAYMENT_AUTHORIZED, E.PAYMENT_FAILED, cancel=True)
        if authorized.type is E.PAYMENT_FAILED:
            raise _failure(authorized)
        if needs_approval(order.total_cents):
            window = order.timeouts.approval_window
            requested = p.ApprovalRequested(
                customer_email=order.customer.email, total_cents=order.total_cents, window=window
            )
            await desk.await_approval(
                window, lambda: self.publish(E.APPROVAL_REQUESTED, requested, authorized)
            )
        await desk.await_dispatch_slot(order.timeouts.handling_time)
        return authorized

    async def _confirm(self, order: Order, tracker: OrderTracker, authorized: Received) -> None:
        # From here on `cancel` and `change_address` are refused.
        tracker.advance(OrderStatus.DISPATCHING, "dispatch begins", Service.SHIPPING)
        confirmed = p.OrderConfirmed(
            customer_id=order.customer.id,
            shipment=ShipmentRequest(
                order_id=order.order_id,
                customer_email=order.customer.email,
                address=tracker.address,
                parcels=len(order.items),
                delivery_deadline=order.timeouts.delivery_deadline,
                lost_after=order.timeouts.lost_after,
                simulate_booking_latency=order.faults.carrier_booking_latency,
                simulate_carrier=order.faults.carrier,
            ),
        )
        await self.publish(E.ORDER_CONFIRMED, confirmed, authorized)

    async def _compensate(self, cancelled: OrderCancelledError) -> None:
        """Announce the cancellation; each service undoes its own part and says so."""
        tracker = self._tracker
        assert tracker is not None
        if tracker.status is not OrderStatus.COMPENSATING:  # else: announced already
            tracker.reason = cancelled.reason
            tracker.advance(
                OrderStatus.COMPENSATING,
                f"compensating: {cancelled.reason.value}",
                Service.ORDERS,
                cancelled.detail,
            )
            announcement = p.OrderCancelled(reason=cancelled.reason, detail=cancelled.detail)
            # Caused by the failure it reports; a person's request or a timer is no event, and
            # then the trace links the cancellation to what woke the workflow instead.
            cause = cancelled.received if isinstance(cancelled, _StepFailedError) else None
            await self.publish(E.ORDER_CANCELLED, announcement, cause)
        await self._facts_of(E.STOCK_RELEASED, E.PAYMENT_VOIDED)
        tracker.cancelled(cancelled.reason, cancelled.detail)

    async def _end(self, outcome: OrderOutcome) -> None:
        """Announce the outcome; record it once the customer has been told, the last effect of
        the order, so that an order recorded as ended has all its effects in the stores."""
        assert self._order is not None
        ended = p.OrderEnded(customer_email=self._order.customer.email, outcome=outcome)
        if workflow.patched(CONFIRMS_FINAL_NOTICE):
            await self.publish(E.ORDER_ENDED, ended, self._last)
            await self._fact(E.CUSTOMER_NOTIFIED)
            await orders.record_order_ended(outcome, Style.CHOREOGRAPHED)
        else:
            await orders.record_order_ended(outcome, Style.CHOREOGRAPHED)
            await self.publish(E.ORDER_ENDED, ended, self._last)
        self._ended = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _note_ignored_cancel(self) -> None:
        assert self._tracker is not None
        self._tracker.record(
            EntryKind.DECISION,
            "workflow cancellation ignored",
            Service.ORDERS,
            "the order is past dispatch: it can only go forward",
        )

    def _cancelled_outcome(self) -> OrderOutcome:
        assert self._order is not None
        assert self._tracker is not None
        return OrderOutcome(
            order_id=self._order.order_id,
            status="cancelled",
            reason=self._tracker.reason or CancelReason.WORKFLOW_CANCELLED,
            detail=self._tracker.reason_detail,
            total_cents=self._order.total_cents,
        )

    # -- events ------------------------------------------------------------------------------

    def done(self) -> bool:
        return self._ended

    def take(self, received: Received) -> None:
        """Fold the event into what the order knows; the process waits on these facts."""
        if received.type in self._facts:
            self._inbox.note(received, f"ignored: a {received.type.value} came already")
            return
        self._facts[received.type] = received
        self._last = received
        self._inbox.note(received, "handled")
        if self._tracker is not None:
            self._observe(received)

    def _observe(self, received: Received) -> None:
        tracker = self._tracker
        assert tracker is not None
        source = received.envelope.producer.service
        status = _STATUS_BY_EVENT.get(received.type)
        going_forward = not (tracker.status.is_final or tracker.status is OrderStatus.COMPENSATING)
        if (
            status is not None
            and going_forward
            and _PROGRESS.index(status) > _PROGRESS.index(tracker.status)
        ):
            tracker.advance(status, _describe(received.type), source, _detail(received))
        else:
            tracker.record(EntryKind.EVENT, received.type.value, source, _detail(received))
        if isinstance(received.payload, p.StockReserved | p.OrderPayload):
            self.tag_customer(received.payload.order.customer.id)

    async def _fact(self, event_type: EventType) -> Received:
        await workflow.wait_condition(lambda: event_type in self._facts)
        return self._facts[event_type]

    async def _facts_of(self, *event_types: EventType) -> None:
        await workflow.wait_condition(lambda: all(t in self._facts for t in event_types))

    async def _first_of(self, *event_types: EventType, cancel: bool = False) -> Received:
        """The first of these events to come; with `cancel`, a customer's cancellation first
        stops the order here."""
        desk = self._desk
        assert desk is not None
        await workflow.wait_condition(
            lambda: (
                any(t in self._facts for t in event_types)
                or (cancel and desk.cancel_request is not None)
            )
        )
        if cancel:
            desk.stop_if_cancel_requested()
        return next(self._facts[t] for t in event_types if t in self._facts)

    # -- what people may ask ---------------------------------------------------------------------

    @workflow.update(name=UPDATE_APPROVE)
    async def approve(self, request: Approve) -> OrderView:
        return await self._open_desk().decide(request)

    @approve.validator
    def _validate_approve(self, request: Approve) -> None:
        self._open_desk().validate_decision()

    @workflow.update(name=UPDATE_REJECT)
    async def reject(self, request: Reject) -> OrderView:
        return await self._open_desk().decide(request)

    @reject.validator
    def _validate_reject(self, request: Reject) -> None:
        self._open_desk().validate_decision()

    @workflow.update(name=UPDATE_CANCEL)
    async def cancel(self, request: Cancel) -> OrderView:
        return await self._open_desk().cancel(request)

    @cancel.validator
    def _validate_cancel(self, request: Cancel) -> None:
        self._open_desk().validate_cancel()

    @workflow.update(name=UPDATE_CHANGE_ADDRESS)
    def change_address(self, request: ChangeAddress) -> OrderView:
        return self._open_desk().change_address(request)

    @change_address.validator
    def _validate_change_address(self, request: ChangeAddress) -> None:
        self._open_desk().validate_change_address()

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> OrderView:
        if self._tracker is None:
            raise ValueError(f"order {self._order_id} has not been placed yet")
        return self._tracker.view()

    def _open_desk(self) -> OrderDesk:
        if self._desk is None:
            raise ApplicationError(
                f"order {self._order_id} refused the request: it has not been placed yet",
                type=UPDATE_REFUSED,
                non_retryable=True,
            )
        return self._desk


class _StepFailedError(OrderCancelledError):
    """A cancellation an event caused: the OrderCancelled it leads to names that event."""

    def __init__(self, received: Received) -> None:
        assert isinstance(received.payload, p.StepFailed)
        super().__init__(received.payload.reason, received.payload.detail)
        self.received = received


def _failure(received: Received) -> OrderCancelledError:
    return _StepFailedError(received)


def _describe(event_type: EventType) -> str:
    return {
        E.STOCK_RESERVED: "stock reserved",
        E.PAYMENT_AUTHORIZED: "payment authorized",
        E.SHIPMENT_DISPATCHED: "shipment dispatched",
        E.PARCEL_PICKED_UP: "shipment picked_up",
        E.DELIVERY_LATE: "shipment late",
    }.get(event_type, event_type.value)


def _detail(received: Received) -> str | None:
    payload: Any = received.payload
    match payload:
        case p.StockReserved(units=units):
            return f"{units} units"
        case p.PaymentAuthorized(amount_cents=cents, authorization_id=auth):
            return f"{format_cents(cents)} ({auth})"
        case p.ShipmentDispatched(tracking_number=number, carrier=carrier):
            return f"{carrier} {number}"
        case p.StepFailed(reason=reason, detail=detail):
            return f"{reason.value}: {detail}"
        case p.PaymentCaptured(amount_cents=cents):
            return format_cents(cents)
        case p.PaymentReversed(action=action, amount_cents=cents):
            return f"{action} {format_cents(cents)}"
        case p.StockReleased(units=units) | p.StockConsumed(units=units):
            return f"{units} units"
    return None
