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

from domain.commands import QUERY_STATUS, Resolution
from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import Party
from domain.events.progress import moves_forward, status_after
from domain.events.records import ParticipantStart
from domain.messages.resolution import ParkedCompensation, RecordOrderParked
from domain.messages.shipment import ShipmentRequest
from domain.money import format_cents
from domain.order import Order
from domain.policy import needs_approval
from domain.services import Service, Style
from domain.status import OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant
from workflows.choreography.undo import UNDONE_BY, ParkedUndos
from workflows.choreography.versions import CANCEL_SAFE, CONFIRMS_FINAL_NOTICE
from workflows.desk import UPDATE_REFUSED, DeskUpdates, OrderDesk
from workflows.failures import OrderCancelledError, workflow_cancelled
from workflows.saga import to_the_end
from workflows.services import orders
from workflows.stopping import stop_the_order
from workflows.tracking import OrderTracker

_STEP_DONE = {
    EventType.STOCK_RESERVED: "stock reserved",
    EventType.PAYMENT_AUTHORIZED: "payment authorized",
    EventType.SHIPMENT_DISPATCHED: "shipment dispatched",
    EventType.PARCEL_PICKED_UP: "shipment picked_up",
    EventType.DELIVERY_LATE: "shipment late",
}
"""How the timeline names the step an event reports, in the words of the orchestrated order."""


@workflow.defn(name=Party.ORDERS.workflow_type)
class OrdersParticipant(DeskUpdates, Participant):
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
        self._parked = ParkedUndos()

    @workflow.run
    async def run(self, start: ParticipantStart) -> OrderOutcome:
        # LEAN_EVENTS came after CANCEL_SAFE and implies it: one marker, not two.
        if not self.lean() and not workflow.patched(CANCEL_SAFE):
            return await self._run_before_cancel_safety()
        placed = await to_the_end(self._fact(EventType.ORDER_PLACED), lambda: None)
        assert isinstance(placed.payload, payloads.OrderPayload)
        order = placed.payload.order
        tracker = self._begin(order)
        try:
            await self._first_record(order, placed)
            authorized = await self._until_dispatch_slot(order)
        except BaseException as error:  # a cancel of the workflow may come as any of several
            return await stop_the_order(error, self._undo_and_end, tracker)
        # The pivot: from here on the order only goes forward, even if its workflow is cancelled.
        return await to_the_end(
            self._ship_and_end(order, tracker, authorized), tracker.note_ignored_cancel
        )

    async def _first_record(self, order: Order, placed: Received) -> None:
        """Register the order and announce it accepted, the start the other services react to.
        Neither is cut short; a cancel that came meanwhile stops the order right after."""
        await to_the_end(self._register_and_accept(order, placed), lambda: None)
        if workflow.cancellation_reason() is not None:
            raise workflow_cancelled()

    async def _register_and_accept(self, order: Order, placed: Received) -> None:
        await orders.record_order_placed(order, Style.CHOREOGRAPHED, local=self.lean())
        await self.publish(EventType.ORDER_ACCEPTED, payloads.OrderPayload(order=order), placed)

    async def _undo_and_end(self, stopped: OrderCancelledError) -> OrderOutcome:
        tracker = self._tracker
        assert tracker is not None
        await self._compensate(stopped)
        outcome = tracker.cancelled_outcome()
        await self._end(outcome)
        return outcome

    async def _ship_and_end(
        self, order: Order, tracker: OrderTracker, authorized: Received
    ) -> OrderOutcome:
        outcome = await self._ship(order, tracker, authorized)
        await self._end(outcome)
        return outcome

    async def _run_before_cancel_safety(self) -> OrderOutcome:
        """The order's life as it ran before `CANCEL_SAFE`, for orders placed before it: a cancel
        during an activity or a compensation was not caught, or not as a cancel. Remove once no
        such order is open (and its histories are dropped from tests/replay)."""
        placed = await self._fact(EventType.ORDER_PLACED)
        assert isinstance(placed.payload, payloads.OrderPayload)
        order = placed.payload.order
        tracker = self._begin(order)
        await self._register_and_accept(order, placed)
        try:
            outcome = await self._until_the_end(order, tracker)
        except asyncio.CancelledError:
            await self._compensate(workflow_cancelled())
            await self._end(tracker.cancelled_outcome())
            raise
        await self._end(outcome)
        return outcome

    def _begin(self, order: Order) -> OrderTracker:
        self._order = order
        self._tracker = OrderTracker(order, Style.CHOREOGRAPHED)
        self._desk = OrderDesk(order.order_id, self._tracker)
        self._tracker.start()
        if self.lean():
            self._tracker.go_lean()
        for received in self._facts.values():  # anything that came before the order itself
            self._observe(received)
        return self._tracker

    # -- the order's life, as the events tell it -----------------------------------------------

    async def _until_the_end(self, order: Order, tracker: OrderTracker) -> OrderOutcome:
        """Before `CANCEL_SAFE` (`_run_before_cancel_safety`)."""
        try:
            authorized = await self._until_dispatch_slot(order)
        except OrderCancelledError as cancelled:
            await self._compensate(cancelled)
            return tracker.cancelled_outcome()
        # The pivot: from here on the order only goes forward, even if its workflow is cancelled.
        return await to_the_end(self._ship(order, tracker, authorized), tracker.note_ignored_cancel)

    async def _ship(
        self, order: Order, tracker: OrderTracker, authorized: Received
    ) -> OrderOutcome:
        await self._confirm(order, tracker, authorized)
        dispatched = await self._first_of(EventType.SHIPMENT_DISPATCHED, EventType.SHIPMENT_FAILED)
        if dispatched.type is EventType.SHIPMENT_FAILED:
            await self._compensate(_StepFailedError(dispatched))
            return tracker.cancelled_outcome()
        ending = await self._first_of(EventType.PARCEL_DELIVERED, EventType.PARCEL_LOST)
        await self._facts_of(EventType.PAYMENT_CAPTURED, EventType.STOCK_CONSUMED)
        if ending.type is EventType.PARCEL_LOST:
            refund = await self._fact(EventType.PAYMENT_REFUNDED)
            assert isinstance(refund.payload, payloads.PaymentReversed)
            return tracker.lost(refund.payload.action, refund.payload.amount_cents)
        assert isinstance(ending.payload, payloads.ParcelDelivered)
        return tracker.completed(ending.payload.late)

    async def _until_dispatch_slot(self, order: Order) -> Received:
        """Before the pivot: any failure or request to cancel ends here, to be compensated.
        Returns the payment authorization the confirmation follows from."""
        desk = self._desk
        assert desk is not None
        reserved = await self._first_of(
            EventType.STOCK_RESERVED, EventType.STOCK_RESERVATION_FAILED, cancel=True
        )
        if reserved.type is EventType.STOCK_RESERVATION_FAILED:
            raise _StepFailedError(reserved)
        authorized = await self._first_of(
            EventType.PAYMENT_AUTHORIZED, EventType.PAYMENT_FAILED, cancel=True
        )
        if authorized.type is EventType.PAYMENT_FAILED:
            raise _StepFailedError(authorized)
        if needs_approval(order.total_cents):
            window = order.timeouts.approval_window
            requested = payloads.ApprovalRequested(
                customer_email=order.customer.email, total_cents=order.total_cents, window=window
            )
            await desk.await_approval(
                window, lambda: self.publish(EventType.APPROVAL_REQUESTED, requested, authorized)
            )
        await desk.await_dispatch_slot(order.timeouts.handling_time)
        return authorized

    async def _confirm(self, order: Order, tracker: OrderTracker, authorized: Received) -> None:
        # From here on `cancel` and `change_address` are refused.
        tracker.advance(OrderStatus.DISPATCHING, "dispatch begins", Service.SHIPPING)
        confirmed = payloads.OrderConfirmed(
            customer_id=order.customer.id,
            shipment=ShipmentRequest.for_order(order, tracker.address),
        )
        await self.publish(EventType.ORDER_CONFIRMED, confirmed, authorized)

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
            announcement = payloads.OrderCancelled(reason=cancelled.reason, detail=cancelled.detail)
            # Caused by the failure it reports; a person's request or a timer is no event, and
            # then the trace links the cancellation to what woke the workflow instead.
            cause = cancelled.received if isinstance(cancelled, _StepFailedError) else None
            await self.publish(EventType.ORDER_CANCELLED, announcement, cause)
        await self._until_undone()
        tracker.cancelled(cancelled.reason, cancelled.detail)
        desk = self._desk
        assert desk is not None
        desk.resolution_done()

    async def _until_undone(self) -> None:
        """Every service has undone its part, or a person answered for the part it could not
        (retried it until it went, or undid it by hand)."""
        desk = self._desk
        assert desk is not None
        relayed = False
        while stuck := await self._undone_or_stuck():
            await self._park(stuck)
            if relayed:  # the answer relayed last led here: parked anew, its update returns
                desk.resolution_done()
            await self._relay_answer(stuck)
            relayed = True

    async def _undone_or_stuck(self) -> list[Received]:
        """Wait until stock and payment are undone (then nothing is stuck), or a service reports
        a compensation it could not do that nobody has answered yet."""

        def undone_or_stuck() -> bool:
            undone = (
                EventType.STOCK_RELEASED in self._facts and EventType.PAYMENT_VOIDED in self._facts
            )
            return undone or bool(self._parked.unanswered(self._facts))

        await workflow.wait_condition(undone_or_stuck)
        return self._parked.unanswered(self._facts)

    async def _relay_answer(self, stuck: list[Received]) -> None:
        """A person's answer, as the event the services act on; returns once each has said how
        it went (undone, or parked anew: the `resolve` update returns then)."""
        desk = self._desk
        assert desk is not None
        answer = await desk.await_resolution()
        self._parked.answer(stuck)
        relayed = payloads.UndoResolution(resolved_by=answer.resolved_by, note=answer.note)
        retry = answer.action is Resolution.RETRY
        await self.publish(
            EventType.UNDO_RETRY_REQUESTED if retry else EventType.UNDONE_BY_HAND,
            relayed,
            stuck[-1],
        )
        await workflow.wait_condition(lambda: self._parked.settled(stuck, self._facts))

    async def _park(self, stuck: list[Received]) -> None:
        """Wait for a person: the order view says what is stuck, the orders store records it."""
        tracker = self._tracker
        assert tracker is not None
        parked = [
            ParkedCompensation(
                compensation=failure.payload.compensation,
                why=failure.payload.why,
                since=failure.envelope.occurred_at,
            )
            for failure in stuck
            if isinstance(failure.payload, payloads.UndoFailed)
        ]
        what = "; ".join(f"{one.compensation.what}: {one.why}" for one in parked)
        if tracker.status is not OrderStatus.NEEDS_ATTENTION:
            tracker.advance(OrderStatus.NEEDS_ATTENTION, "needs attention", Service.ORDERS, what)
        tracker.waiting(f"a person to retry or undo by hand: {what}", None)
        record = RecordOrderParked(order_id=self._order_id, parked=parked, at=workflow.now())
        await orders.record_order_parked(record)

    async def _end(self, outcome: OrderOutcome) -> None:
        """Announce the outcome; record it once the customer has been told, the last effect of
        the order, so that an order recorded as ended has all its effects in the stores."""
        assert self._order is not None
        ended = payloads.OrderEnded(customer_email=self._order.customer.email, outcome=outcome)
        if self.lean() or workflow.patched(CONFIRMS_FINAL_NOTICE):
            await self.publish(EventType.ORDER_ENDED, ended, self._last)
            await self._fact(EventType.CUSTOMER_NOTIFIED)
            await orders.record_order_ended(outcome, Style.CHOREOGRAPHED, local=self.lean())
        else:
            await orders.record_order_ended(outcome, Style.CHOREOGRAPHED)
            await self.publish(EventType.ORDER_ENDED, ended, self._last)
        self._ended = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    # -- events ------------------------------------------------------------------------------

    def done(self) -> bool:
        return self._ended

    def take(self, received: Received) -> None:
        """Fold the event into what the order knows; the process waits on these facts."""
        if received.type in UNDONE_BY:  # a compensation parked: each report counts, not the first
            self._parked.note(received)
        elif not self._inbox.keep_first(received, self._facts):
            return
        self._last = received
        if self._tracker is not None:
            self._observe(received)

    def _observe(self, received: Received) -> None:
        tracker = self._tracker
        assert tracker is not None
        source = received.envelope.producer.service
        status = status_after(received.type, received.payload)
        # An event moves the order forward; ending it (completed, cancelled) is the process's call.
        if status is not None and not status.is_final and moves_forward(tracker.status, status):
            what = _STEP_DONE.get(received.type, received.type.value)
            tracker.advance(status, what, source, _detail(received))
        else:
            tracker.record(EntryKind.EVENT, received.type.value, source, _detail(received))
        payload = received.payload
        if isinstance(payload, payloads.OrderPayload) or (
            isinstance(payload, payloads.StockReserved)
            and payload.order is not None  # before the cut
        ):
            assert payload.order is not None
            self.tag_customer(payload.order.customer.id)

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

    # -- what people may ask (the updates: DeskUpdates) ----------------------------------------

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
        assert isinstance(received.payload, payloads.StepFailed)
        super().__init__(received.payload.reason, received.payload.detail)
        self.received = received


def _detail(received: Received) -> str | None:
    payload: Any = received.payload
    match payload:
        case payloads.StockReserved(units=units):
            return f"{units} units"
        case payloads.PaymentAuthorized(amount_cents=cents, authorization_id=auth):
            return f"{format_cents(cents)} ({auth})"
        case payloads.ShipmentDispatched(tracking_number=number, carrier=carrier):
            return f"{carrier} {number}"
        case payloads.UndoFailed(compensation=compensation, why=why):
            return f"{compensation.what}: {why}"
        case payloads.StepFailed(reason=reason, detail=detail):
            return f"{reason.value}: {detail}"
        case payloads.PaymentCaptured(amount_cents=cents):
            return format_cents(cents)
        case payloads.PaymentReversed(action=action, amount_cents=cents):
            return f"{action} {format_cents(cents)}"
        case payloads.StockReleased(units=units) | payloads.StockConsumed(units=units):
            return f"{units} units"
    return None
