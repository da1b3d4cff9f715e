"""What every participant shares: the `event` signal through the inbox, the `participant` query,
publishing its own events, and the loop that handles one event at a time until its part is done,
each by the participant's handler for its type (`reacts_to`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from domain import search_attributes
from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT, EventContractError, EventType
from domain.events.envelope import SIGNAL_EVENT, EventEnvelope, Party
from domain.events.progress import moves_forward, status_after
from domain.events.records import (
    QUERY_PARTICIPANT,
    EventRecord,
    ParticipantStart,
    ParticipantView,
)
from domain.services import Service
from domain.status import OrderStatus
from workflows.choreography.inbox import Inbox, Received, record_of, single_event
from workflows.choreography.versions import LEAN_EVENTS, PARTICIPANT_STATUS
from workflows.failures import business_failure
from workflows.retry_policies import UNTIL_DONE
from workflows.saga import to_the_end
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.events import EventPublisher
from workflows.status_attribute import StatusAttribute

ModelT = TypeVar("ModelT", bound=BaseModel)

Handler = Callable[[Any, Any, Received], Awaitable[str | None]]
"""A participant's reaction to one event type, called with the participant, the payload as the
contract hands it to the participant's party, and the event; it returns what was done when that
is not simply "handled" (None)."""

HandlerT = TypeVar("HandlerT", bound=Handler)

_REACTS_TO = "__reacts_to__"


def reacts_to(*event_types: EventType) -> Callable[[HandlerT], HandlerT]:
    """Make the method the participant's handler for these event types (several: one meaning,
    as two services' "could not undo" are to notifications). The class is refused where it is
    defined if the contract does not have its party react to one of them, if another handler
    has one of them already, or if the method's payload is not what the contract hands."""

    def mark(handler: HandlerT) -> HandlerT:
        setattr(handler, _REACTS_TO, event_types)
        return handler

    return mark


class TooEarlyError(Exception):
    """Raised by a handler for an event that came before the one it follows from (a dispatch
    before the reservation it consumes): it is kept and handled once another event was."""


class Participant:
    """Subclasses set `party`, decorate themselves with `workflow.defn`, mark a handler
    `reacts_to` each event type the contract has their party react to, and implement `done`
    (whether their part of the order is over). One that folds events instead overrides `take`."""

    party: ClassVar[Party]
    handlers: ClassVar[Mapping[EventType, Handler]] = {}
    """The handler of each event type, collected from the class's `reacts_to` methods."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        methods: dict[str, Any] = {}
        for base in reversed(cls.__mro__):  # a method overridden by name is the subclass's
            methods.update(vars(base))
        handlers: dict[EventType, Handler] = {}
        for name, method in methods.items():
            for event_type in getattr(method, _REACTS_TO, ()):
                if event_type in handlers:
                    raise TypeError(
                        f"{cls.__qualname__} has two handlers for {event_type.value}: "
                        f"{handlers[event_type].__name__} and {name}"
                    )
                handlers[event_type] = method
        party: Party | None = getattr(cls, "party", None)  # None: a base shared by parties
        if party is not None:
            for event_type, handler in handlers.items():
                _check_handler(cls, party, event_type, handler)
        cls.handlers = handlers

    def __init__(self, start: ParticipantStart) -> None:
        self._order_id = start.order_id
        self._inbox = Inbox(self.party, start.order_id)
        self._published: list[EventRecord] = []
        self._deferred: list[Received] = []
        self._order_status: OrderStatus | None = None
        self._customer_tagged = False
        self._forwarding: asyncio.Future[None] | None = None
        self._lean: bool | None = None
        """`LEAN_EVENTS`, once asked (`lean`)."""
        self._status_attribute = StatusAttribute()

    @workflow.signal(name=SIGNAL_EVENT)
    def on_event(self, *raw: Any) -> None:
        received = self._inbox.accept(single_event(raw), workflow.now())
        if received is not None:
            self.take(received)

    @workflow.query(name=QUERY_PARTICIPANT)
    def participant(self) -> ParticipantView:
        return ParticipantView(
            service=self.service,
            order_id=self._order_id,
            done=self.done(),
            received=list(self._inbox.received),
            published=list(self._published),
            waiting=[r.record("waits for the event it follows from") for r in self._deferred],
            refused=list(self._inbox.refused),
            duplicates_dropped=self._inbox.duplicates_dropped,
        )

    def lean(self) -> bool:
        """Whether this participant runs with `LEAN_EVENTS`: asked of Temporal once, wherever it
        first matters (a record, a publish, a change of status), which is the same place at
        every replay of the same history."""
        if self._lean is None:
            self._lean = workflow.patched(LEAN_EVENTS)
            if self._lean:
                self._status_attribute.coalesce()
        return self._lean

    @property
    def service(self) -> Service:
        service = self.party.service
        assert service is not None
        return service

    # -- what a subclass provides ------------------------------------------------------------

    def take(self, received: Received) -> None:
        """Queue the event for `serve`; a subclass that only folds events may override this."""
        self._inbox.pending.append(received)

    def done(self) -> bool:
        raise NotImplementedError

    # -- the shared machinery ----------------------------------------------------------------

    async def serve(self) -> None:
        """Handle events in arrival order, one at a time, until this participant's part is done.
        Events still queued then change nothing: they are recorded as ignored.

        A cancel of this workflow is a cancel of the order: it is forwarded to the workflow that
        owns the order's lifecycle (`Party.lifecycle_owner`), which undoes the order before the
        pivot and notes it after; this participant goes on serving, to do its part of either.
        Ending here instead would leave its part of the order (stock held, a payment authorized)
        with nobody to undo it."""
        await to_the_end(self._serve(), self._cancel_requested)
        if self._forwarding is not None:
            await self._forwarding

    def _cancel_requested(self) -> None:
        """Forwarded at once, whatever this participant is doing (following a parcel for days,
        say); a second cancel is the same request."""
        if self._forwarding is None:
            self._forwarding = asyncio.ensure_future(self._forward_cancel())

    async def _serve(self) -> None:
        while not self.done():
            await workflow.wait_condition(lambda: bool(self._inbox.pending) or self.done())
            if self._inbox.pending:
                await self._handle_next()
        for received in [*self._deferred, *self._inbox.pending]:
            self._inbox.note(received, "ignored: this participant is done")
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _forward_cancel(self) -> None:
        owner = self.party.lifecycle_owner.workflow_id(self._order_id)
        try:
            await workflow.get_external_workflow_handle(owner).cancel()
        except ApplicationError as failure:  # the order has ended already: nothing to cancel
            self._publish_details(f"cancel not forwarded to {owner}: {failure.message}")
            return
        self._publish_details(f"cancel forwarded to {owner}")

    async def _handle_next(self) -> None:
        received = self._inbox.pending.popleft()
        try:  # the inbox took only what the contract has this party react to: it has a handler
            said = await self.handlers[received.type](self, received.payload, received)
        except TooEarlyError:
            self._deferred.append(received)
            return
        except ActivityError as failure:  # a store refused: this event cannot apply
            said = f"refused by {self.service.value}: {_cause(failure)}"
        note = "handled" if said is None else said
        self._inbox.note(received, note)
        self._learn(received.type, received.payload)
        self._publish_details(f"{received.type.value}: {note}")
        # What waited for this event may apply now: it goes first, in the order it came.
        self._inbox.pending.extendleft(reversed(self._deferred))
        self._deferred.clear()

    async def publish(
        self, event_type: EventType, payload: BaseModel, caused_by: Received | None
    ) -> EventEnvelope:
        envelope, record = await publish(self.party, self._order_id, event_type, payload, caused_by)
        self._published.append(record)
        self._learn(event_type, payload)
        self._publish_details(f"published {event_type.value}")
        return envelope

    def _learn(self, event_type: EventType, payload: BaseModel) -> None:
        """Keep `OrderStatus` at where the order stands as far as this participant knows, so the
        Web UI's lists by status hold every workflow of the order. (The order view keeps the
        order's own status; this is for the others.)"""
        status = status_after(event_type, payload)
        if self.party is Party.ORDERS or status is None:
            return
        if not moves_forward(self._order_status, status):
            return
        if self.lean() or workflow.patched(PARTICIPANT_STATUS):
            self._order_status = status
            self._status_attribute.set(status)

    def _publish_details(self, last: str) -> None:
        """The workflow's current details in the Web UI: what it is and where it stands."""
        if self.party is Party.ORDERS:  # its OrderTracker writes them
            return
        waiting = f"; {len(self._deferred)} event(s) waiting" if self._deferred else ""
        workflow.set_current_details(
            f"**{self.party.value}** for order {self._order_id}"
            f" ({self._order_status.value if self._order_status else 'working'})\n\n"
            f"received {len(self._inbox.received)}, published {len(self._published)}, "
            f"refused {len(self._inbox.refused)}{waiting}\n\nlast: {last}"
        )

    def tag_customer(self, customer_id: str) -> None:
        """Add `CustomerId` once an event names the customer (delivery could not know it)."""
        if not self._customer_tagged:
            workflow.upsert_search_attributes(
                [search_attributes.CUSTOMER_ID.value_set(customer_id)]
            )
            self._customer_tagged = True


def _check_handler(
    participant: type[Participant], party: Party, event_type: EventType, handler: Handler
) -> None:
    """Refuse a handler the contract has no use for, or one that expects another payload than
    the one the inbox validates for this party (`Contract.payload_for`): either is a mistake
    that would otherwise show only when such an event comes."""
    spec = ORDER_CONTRACT.spec(event_type)
    where = f"{participant.__qualname__}.{handler.__name__}"
    if party not in spec.consumers:
        raise EventContractError(
            f"{where} handles {event_type.value}, which the contract does not have "
            f"{party.value} react to"
        )
    seen = spec.seen_by(party)
    _, payload, *_ = inspect.signature(handler, eval_str=True).parameters.values()
    expects = payload.annotation
    if expects is not seen:
        raise EventContractError(
            f"{where} takes {getattr(expects, '__name__', expects)} for {event_type.value}, "
            f"but the contract hands {party.value} {seen.__name__}"
        )


def published_whole(received: Received, model: type[ModelT]) -> ModelT | None:
    """The event's payload as its producer published it, if it came whole: published before
    payloads were cut, by a worker of before the upgrade. Such an order is in flight with a
    party downstream that was never handed its cut (payments, the hand-off): what this
    participant received whole it passes on, once, and that order goes on."""
    try:
        return model.model_validate(received.envelope.payload)
    except ValidationError:
        return None


def step_failed(failure: ActivityError) -> payloads.StepFailed:
    """A step's failed activity as the payload of the event that reports it."""
    cancelled = business_failure(failure)
    return payloads.StepFailed(reason=cancelled.reason, detail=cancelled.detail)


def _cause(failure: ActivityError) -> str:
    cause = failure.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or failure)


async def publish(
    party: Party,
    order_id: str,
    event_type: EventType,
    payload: BaseModel,
    caused_by: Received | None,
) -> tuple[EventEnvelope, EventRecord]:
    """Publish through the party's service's `publish_event` activity, retried until delivered.
    The event id comes from the workflow, so a retried delivery is dropped as a duplicate.

    Not a local activity, though the participant's own worker could run it: a delivery is a
    round of RPCs to other workflows, long enough to be in flight when a worker without a cache
    evicts the workflow, and a local activity in flight then is cancelled and its workflow task
    left to time out (measured: the time-skipping tests' workers stalled for 30 s)."""
    service = party.service
    assert service is not None
    ORDER_CONTRACT.check_publication(
        party, event_type, payload, caused_by.type if caused_by else None
    )
    envelope = ORDER_CONTRACT.envelope(
        event_id=str(workflow.uuid4()),
        event_type=event_type,
        order_id=order_id,
        causation_id=caused_by.envelope.event_id if caused_by else None,
        occurred_at=workflow.now(),
        producer=party,
        payload=payload,
    )
    report = await call(
        EventPublisher.publish_event,
        envelope,
        service=service,
        policy=UNTIL_DONE,
        summary=f"publish {event_type.value}",
    )
    note = "delivered to " + (", ".join(party.value for party in report.delivered_to) or "nobody")
    for undelivered in report.undelivered:
        note += f"; not to {undelivered.party.value}: {undelivered.reason}"
    return envelope, record_of(envelope, workflow.now(), note)
