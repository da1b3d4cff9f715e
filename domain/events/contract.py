"""The event contract of the choreographed style, declared once as data.

For every event type: its payload model, the party that publishes it, the parties that react and
what each reaction may publish in turn, whether it ends a chain (terminal), whether the step it
reports can be undone (compensable) and which event it undoes (compensates). The participants
route and check events by this table, `python -m starters.contract check` checks the table
itself, and `python -m starters.contract diagram` draws it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.base import Model
from domain.events import payloads
from domain.events.cuts import cut
from domain.events.envelope import EventEnvelope, Party
from domain.personal import PersonalData


class EventType(StrEnum):
    ORDER_PLACED = "OrderPlaced"
    ORDER_ACCEPTED = "OrderAccepted"
    STOCK_RESERVED = "StockReserved"
    STOCK_RESERVATION_FAILED = "StockReservationFailed"
    PAYMENT_AUTHORIZED = "PaymentAuthorized"
    PAYMENT_FAILED = "PaymentFailed"
    APPROVAL_REQUESTED = "ApprovalRequested"
    ORDER_CONFIRMED = "OrderConfirmed"
    SHIPMENT_FAILED = "ShipmentFailed"
    ORDER_CANCELLED = "OrderCancelled"
    STOCK_RELEASED = "StockReleased"
    PAYMENT_VOIDED = "PaymentVoided"
    STOCK_RELEASE_FAILED = "StockReleaseFailed"
    PAYMENT_VOID_FAILED = "PaymentVoidFailed"
    UNDO_RETRY_REQUESTED = "UndoRetryRequested"
    UNDONE_BY_HAND = "UndoneByHand"
    SHIPMENT_DISPATCHED = "ShipmentDispatched"
    PAYMENT_CAPTURED = "PaymentCaptured"
    STOCK_CONSUMED = "StockConsumed"
    PARCEL_PICKED_UP = "ParcelPickedUp"
    DELIVERY_LATE = "DeliveryLate"
    PARCEL_DELIVERED = "ParcelDelivered"
    PARCEL_LOST = "ParcelLost"
    PAYMENT_REFUNDED = "PaymentRefunded"
    ORDER_ENDED = "OrderEnded"
    CUSTOMER_NOTIFIED = "CustomerNotified"
    FULFILMENT_REQUESTED = "FulfilmentRequested"
    ITEMS_PICKED = "ItemsPicked"
    PARCEL_PACKED = "ParcelPacked"
    PARCEL_HANDED_OVER = "ParcelHandedOver"
    HANDOFF_FAILED = "HandoffFailed"
    SHIPMENT_IN_TRANSIT = "ShipmentInTransit"
    SHIPMENT_LATE = "ShipmentLate"
    SHIPMENT_DELIVERED = "ShipmentDelivered"
    SHIPMENT_LOST = "ShipmentLost"


class Reaction(Model):
    consumer: Party
    publishes: tuple[EventType, ...] = ()
    sees: builtins.type[BaseModel] | None = None
    """The cut of the payload this consumer is handed (None: all of it)."""


PayloadJson = dict[str, Any]


class OlderSchema(Model):
    """A schema version of an event's payload that receivers still read: events of it published
    by workers of an earlier build may still be in flight (in a signal, in a history). `upgrade`
    turns such a payload, as JSON, into the current version's; the current model then checks it.
    Declare one for the version before whenever `schema_version` goes up, and drop it once no
    order of that build is open (`python -m starters.contract diff` says which change needs one)."""

    version: int
    upgrade: Callable[[PayloadJson], PayloadJson]


class EventSpec(Model):
    type: EventType
    payload: builtins.type[BaseModel]
    producer: Party
    schema_version: int = 1
    """The version of `payload` this build publishes, in the envelope's `schema_version`. Goes up
    with a change to the payload that an event of the version before would not pass (a field
    removed, retyped or made required) or that changes what it means."""
    older: tuple[OlderSchema, ...] = ()
    """The earlier versions still read, each with its upgrade to this one."""
    reactions: tuple[Reaction, ...] = ()
    terminal: bool = False
    """Ends a chain: nobody needs to react for the order to go on."""
    compensable: bool = False
    """Reports a step that may need undoing: before dispatch if the order is cancelled (stock,
    authorization), after it if the parcel is lost (the capture)."""
    compensates: EventType | None = None
    """The compensable event whose step this one undoes."""
    summary: str

    @property
    def consumers(self) -> tuple[Party, ...]:
        return tuple(reaction.consumer for reaction in self.reactions)

    @property
    def versions_read(self) -> tuple[int, ...]:
        """Every schema version a receiver of this build takes, the current one first."""
        return (self.schema_version, *(older.version for older in self.older))

    def current_payload(self, version: int, payload: PayloadJson) -> PayloadJson:
        """An event's payload, as JSON, in the current version: upgraded if it is of an older
        version still read; an EventContractError for a version this build does not read."""
        if version == self.schema_version:
            return payload
        for older in self.older:
            if older.version == version:
                try:
                    return older.upgrade(payload)
                except Exception as error:  # a malformed old payload must not fail a workflow task
                    raise EventContractError(
                        f"{self.type.value} of schema version {version} could not be upgraded "
                        f"to {self.schema_version}: {type(error).__name__}: {error}"[:300]
                    ) from error
        raise EventContractError(
            f"{self.type.value} of schema version {version} is not read by this build (it "
            f"reads {', '.join(str(read) for read in self.versions_read)})"
        )

    def seen_by(self, consumer: Party) -> builtins.type[BaseModel]:
        """The model of what `consumer` is handed of this event."""
        for reaction in self.reactions:
            if reaction.consumer is consumer:
                return reaction.sees or self.payload
        raise EventContractError(
            f"{self.type.value} is not for {consumer.value}: the contract has "
            f"{', '.join(c.value for c in self.consumers)} react to it"
        )


class EventContractError(ValueError):
    """An event does not fit the contract; the message says what and why."""


class Contract(Model):
    events: tuple[EventSpec, ...]
    needs: dict[Party, frozenset[PersonalData]] = {}
    """The personal data each party needs to do its part; an event that hands a party any other
    is a contract error (`checks.py`)."""
    declared_cycles: tuple[tuple[EventType, ...], ...] = ()
    """Cycles of events the contract means to have (a retry loop, say); any other is an error."""

    def spec(self, event_type: str) -> EventSpec:
        for spec in self.events:
            if spec.type == event_type:
                return spec
        raise EventContractError(
            f"unknown event type {event_type!r}: the contract does not declare it"
        )

    def check_publication(
        self,
        producer: Party,
        event_type: EventType,
        payload: BaseModel,
        reacting_to: EventType | None,
    ) -> None:
        """Refuse, before it goes out, an event its publisher may not publish here: one another
        party produces, a payload of another model, or (in reaction to `reacting_to`) one its
        reaction does not declare. The static checks read the contract; this holds the code to
        it where it runs."""
        spec = self.spec(event_type)
        if spec.producer is not producer:
            raise EventContractError(
                f"{producer.value} published {event_type.value}, which the contract has "
                f"{spec.producer.value} publish"
            )
        if not isinstance(payload, spec.payload):
            raise EventContractError(
                f"{producer.value} published {event_type.value} with a "
                f"{type(payload).__name__} payload; the contract says {spec.payload.__name__}"
            )
        if reacting_to is None:
            return
        reaction = next(
            (r for r in self.spec(reacting_to).reactions if r.consumer is producer), None
        )
        if reaction is None or event_type not in reaction.publishes:
            declared = ", ".join(e.value for e in reaction.publishes) if reaction else "nothing"
            raise EventContractError(
                f"{producer.value} published {event_type.value} in reaction to "
                f"{reacting_to.value}; its reaction declares {declared}"
            )

    def cut_for(self, consumer: Party, envelope: EventEnvelope) -> EventEnvelope:
        """The envelope as `consumer` is handed it: its payload cut to what it sees."""
        spec = self.spec(envelope.type)
        payload = cut(spec.seen_by(consumer), spec.payload, envelope.payload)
        return envelope.model_copy(update={"payload": payload})

    def envelope(
        self,
        *,
        event_id: str,
        event_type: EventType,
        order_id: str,
        occurred_at: datetime,
        producer: Party,
        payload: BaseModel,
        causation_id: str | None = None,
    ) -> EventEnvelope:
        """A new event, its payload in the schema version this build publishes."""
        return EventEnvelope(
            event_id=event_id,
            type=event_type.value,
            order_id=order_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            producer=producer,
            schema_version=self.spec(event_type).schema_version,
            payload=payload.model_dump(mode="json"),
        )

    def payload_for(self, consumer: Party, envelope: EventEnvelope) -> BaseModel:
        """The envelope's payload as `consumer` sees it (whether the bus cut it already or it
        was published whole, before payloads were cut); an EventContractError says what is wrong."""
        spec = self.spec(envelope.type)
        seen = spec.seen_by(consumer)
        current = spec.current_payload(envelope.schema_version, envelope.payload)
        try:
            payload: BaseModel = seen.model_validate(cut(seen, spec.payload, current))
            return payload
        except ValidationError as error:
            raise EventContractError(
                f"malformed {envelope.type} payload: {_first_problems(error)}"
            ) from error


_PROBLEMS_SHOWN = 3
_WHERE_SHOWN = 80


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)[:_WHERE_SHOWN] or "payload"


def _first_problems(error: ValidationError) -> str:
    """The first few problems, each where and why: a payload with twenty thousand unknown
    fields is refused in a line, not in a megabyte a participant's query must carry."""
    problems = error.errors(include_url=False, include_input=False)
    shown = [
        f"{_where(problem['loc'])}: {problem['msg']}" for problem in problems[:_PROBLEMS_SHOWN]
    ]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more else "")


def _event(
    type: EventType,
    payload: type[BaseModel],
    producer: Party,
    summary: str,
    *reactions: Reaction,
    terminal: bool = False,
    compensable: bool = False,
    compensates: EventType | None = None,
) -> EventSpec:
    return EventSpec(
        type=type,
        payload=payload,
        producer=producer,
        reactions=reactions,
        terminal=terminal,
        compensable=compensable,
        compensates=compensates,
        summary=summary,
    )


def _reacts(
    consumer: Party, *publishes: EventType, sees: type[BaseModel] | None = None
) -> Reaction:
    return Reaction(consumer=consumer, publishes=publishes, sees=sees)


ORDERS, INVENTORY, PAYMENTS = Party.ORDERS, Party.INVENTORY, Party.PAYMENTS
SHIPPING, NOTIFICATIONS = Party.SHIPPING, Party.NOTIFICATIONS
ORCHESTRATOR, PICKING, PACKING, HANDOFF = (
    Party.ORCHESTRATOR,
    Party.PICKING,
    Party.PACKING,
    Party.HANDOFF,
)

ORDER_CONTRACT = Contract(
    events=(
        _event(
            EventType.ORDER_PLACED,
            payloads.OrderPayload,
            Party.STOREFRONT,
            "a customer placed an order",
            _reacts(ORDERS, EventType.ORDER_ACCEPTED),
        ),
        _event(
            EventType.ORDER_ACCEPTED,
            payloads.OrderPayload,
            ORDERS,
            "the order is recorded and may proceed",
            # payments first: it keeps the terms, and has them before the stock is held
            _reacts(PAYMENTS, sees=payloads.PaymentTerms),
            _reacts(
                INVENTORY,
                EventType.STOCK_RESERVED,
                EventType.STOCK_RESERVATION_FAILED,
                sees=payloads.LinesToReserve,
            ),
            _reacts(NOTIFICATIONS, sees=payloads.CustomerContact),
        ),
        _event(
            EventType.STOCK_RESERVED,
            payloads.StockReserved,
            INVENTORY,
            "every line is held for the order",
            _reacts(
                PAYMENTS,
                EventType.PAYMENT_AUTHORIZED,
                EventType.PAYMENT_FAILED,
                sees=payloads.StockHeld,
            ),
            _reacts(ORDERS),
            compensable=True,
        ),
        _event(
            EventType.STOCK_RESERVATION_FAILED,
            payloads.StepFailed,
            INVENTORY,
            "the stock could not be reserved",
            _reacts(ORDERS, EventType.ORDER_CANCELLED),
        ),
        _event(
            EventType.PAYMENT_AUTHORIZED,
            payloads.PaymentAuthorized,
            PAYMENTS,
            "the total is authorized on the card",
            _reacts(
                ORDERS,
                EventType.APPROVAL_REQUESTED,
                EventType.ORDER_CONFIRMED,
                EventType.ORDER_CANCELLED,
            ),
            compensable=True,
        ),
        _event(
            EventType.PAYMENT_FAILED,
            payloads.StepFailed,
            PAYMENTS,
            "the payment was declined or could not be authorized",
            _reacts(ORDERS, EventType.ORDER_CANCELLED),
        ),
        _event(
            EventType.APPROVAL_REQUESTED,
            payloads.ApprovalRequested,
            ORDERS,
            "the total is above the threshold: a person must decide",
            _reacts(NOTIFICATIONS),
        ),
        _event(
            EventType.ORDER_CONFIRMED,
            payloads.OrderConfirmed,
            ORDERS,
            "approved, through its handling time: the order may ship (the pivot)",
            _reacts(
                SHIPPING,
                EventType.SHIPMENT_DISPATCHED,
                EventType.SHIPMENT_FAILED,
                EventType.PARCEL_PICKED_UP,
                EventType.DELIVERY_LATE,
                EventType.PARCEL_DELIVERED,
                EventType.PARCEL_LOST,
                sees=payloads.ShipmentOrder,
            ),
        ),
        _event(
            EventType.SHIPMENT_FAILED,
            payloads.StepFailed,
            SHIPPING,
            "no carrier would take the parcel",
            _reacts(ORDERS, EventType.ORDER_CANCELLED),
        ),
        _event(
            EventType.ORDER_CANCELLED,
            payloads.OrderCancelled,
            ORDERS,
            "the order is cancelled before dispatch: undo what was done",
            _reacts(INVENTORY, EventType.STOCK_RELEASED, EventType.STOCK_RELEASE_FAILED),
            _reacts(PAYMENTS, EventType.PAYMENT_VOIDED, EventType.PAYMENT_VOID_FAILED),
        ),
        _event(
            EventType.STOCK_RELEASE_FAILED,
            payloads.UndoFailed,
            INVENTORY,
            "the held stock could not be released: parked for a person",
            _reacts(ORDERS, EventType.UNDO_RETRY_REQUESTED, EventType.UNDONE_BY_HAND),
            _reacts(NOTIFICATIONS),
        ),
        _event(
            EventType.PAYMENT_VOID_FAILED,
            payloads.UndoFailed,
            PAYMENTS,
            "the authorization could not be voided: parked for a person",
            _reacts(ORDERS, EventType.UNDO_RETRY_REQUESTED, EventType.UNDONE_BY_HAND),
            _reacts(NOTIFICATIONS),
        ),
        _event(
            EventType.UNDO_RETRY_REQUESTED,
            payloads.UndoResolution,
            ORDERS,
            "a person asks the services to retry their parked compensation",
            _reacts(INVENTORY, EventType.STOCK_RELEASED, EventType.STOCK_RELEASE_FAILED),
            _reacts(PAYMENTS, EventType.PAYMENT_VOIDED, EventType.PAYMENT_VOID_FAILED),
        ),
        _event(
            EventType.UNDONE_BY_HAND,
            payloads.UndoResolution,
            ORDERS,
            "a person undid the parked compensations by hand: the services record it",
            _reacts(INVENTORY, EventType.STOCK_RELEASED),
            _reacts(PAYMENTS, EventType.PAYMENT_VOIDED),
        ),
        _event(
            EventType.STOCK_RELEASED,
            payloads.StockReleased,
            INVENTORY,
            "the held stock is back on the shelf",
            _reacts(ORDERS, EventType.ORDER_ENDED),
            compensates=EventType.STOCK_RESERVED,
        ),
        _event(
            EventType.PAYMENT_VOIDED,
            payloads.PaymentReversed,
            PAYMENTS,
            "the authorization is voided",
            _reacts(ORDERS, EventType.ORDER_ENDED),
            compensates=EventType.PAYMENT_AUTHORIZED,
        ),
        _event(
            EventType.SHIPMENT_DISPATCHED,
            payloads.ShipmentDispatched,
            SHIPPING,
            "the parcel is handed to the carrier",
            _reacts(PAYMENTS, EventType.PAYMENT_CAPTURED, sees=payloads.Dispatched),
            _reacts(INVENTORY, EventType.STOCK_CONSUMED, sees=payloads.Dispatched),
            _reacts(NOTIFICATIONS),
            _reacts(ORDERS),
        ),
        _event(
            EventType.PAYMENT_CAPTURED,
            payloads.PaymentCaptured,
            PAYMENTS,
            "the customer is charged",
            _reacts(ORDERS, EventType.ORDER_ENDED),
            compensable=True,
        ),
        _event(
            EventType.STOCK_CONSUMED,
            payloads.StockConsumed,
            INVENTORY,
            "the held stock left the warehouse",
            _reacts(ORDERS, EventType.ORDER_ENDED),
        ),
        _event(
            EventType.PARCEL_PICKED_UP,
            payloads.ParcelPickedUp,
            SHIPPING,
            "the carrier picked the parcel up",
            _reacts(ORDERS),
        ),
        _event(
            EventType.DELIVERY_LATE,
            payloads.DeliveryLate,
            SHIPPING,
            "the delivery deadline passed: escalate, do not undo",
            _reacts(NOTIFICATIONS),
            _reacts(ORDERS),
        ),
        _event(
            EventType.PARCEL_DELIVERED,
            payloads.ParcelDelivered,
            SHIPPING,
            "the carrier delivered the parcel",
            _reacts(ORDERS, EventType.ORDER_ENDED),
            _reacts(PAYMENTS),
        ),
        _event(
            EventType.PARCEL_LOST,
            payloads.ParcelLost,
            SHIPPING,
            "the parcel never arrived: refund the customer",
            _reacts(PAYMENTS, EventType.PAYMENT_REFUNDED),
            _reacts(ORDERS),
        ),
        _event(
            EventType.PAYMENT_REFUNDED,
            payloads.PaymentReversed,
            PAYMENTS,
            "the captured amount is refunded",
            _reacts(ORDERS, EventType.ORDER_ENDED),
            compensates=EventType.PAYMENT_CAPTURED,
        ),
        _event(
            EventType.ORDER_ENDED,
            payloads.OrderEnded,
            ORDERS,
            "the order completed or was cancelled: tell the customer",
            _reacts(NOTIFICATIONS, EventType.CUSTOMER_NOTIFIED),
        ),
        _event(
            EventType.CUSTOMER_NOTIFIED,
            payloads.CustomerNotified,
            NOTIFICATIONS,
            "the customer has the final word: the orders service closes its books",
            _reacts(ORDERS),
            terminal=True,
        ),
        # The hybrid style: its orchestrator hands the fulfilment to the warehouse, whose
        # participants react to one another, and waits for the outcome as events.
        _event(
            EventType.FULFILMENT_REQUESTED,
            payloads.Fulfilment,
            ORCHESTRATOR,
            "the order is paid for and approved: the warehouse takes over (the pivot)",
            _reacts(PICKING, EventType.ITEMS_PICKED, sees=payloads.WarehouseFulfilment),
            # the hand-off keeps where the parcel goes; picking and packing never see it
            _reacts(HANDOFF, sees=payloads.CarrierFulfilment),
        ),
        _event(
            EventType.ITEMS_PICKED,
            payloads.ItemsPicked,
            PICKING,
            "every line is on the packing bench",
            _reacts(PACKING, EventType.PARCEL_PACKED, sees=payloads.PickedForPacking),
        ),
        _event(
            EventType.PARCEL_PACKED,
            payloads.ParcelPacked,
            PACKING,
            "the parcel is packed and labelled",
            _reacts(
                HANDOFF,
                EventType.PARCEL_HANDED_OVER,
                EventType.HANDOFF_FAILED,
                EventType.SHIPMENT_IN_TRANSIT,
                EventType.SHIPMENT_LATE,
                EventType.SHIPMENT_DELIVERED,
                EventType.SHIPMENT_LOST,
                sees=payloads.PackedForHandoff,
            ),
        ),
        _event(
            EventType.HANDOFF_FAILED,
            payloads.StepFailed,
            HANDOFF,
            "no carrier would take the parcel: the orchestrator compensates",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            EventType.PARCEL_HANDED_OVER,
            payloads.ParcelHandedOver,
            HANDOFF,
            "the carrier has the parcel: the orchestrator captures the payment",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            EventType.SHIPMENT_IN_TRANSIT,
            payloads.ShipmentInTransit,
            HANDOFF,
            "the carrier picked the parcel up",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            EventType.SHIPMENT_LATE,
            payloads.ShipmentLate,
            HANDOFF,
            "the delivery deadline passed (operations are told): escalate, do not undo",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            EventType.SHIPMENT_DELIVERED,
            payloads.ShipmentDelivered,
            HANDOFF,
            "the carrier delivered the parcel: the fulfilment is over",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            EventType.SHIPMENT_LOST,
            payloads.ShipmentLost,
            HANDOFF,
            "the parcel never arrived: the orchestrator refunds",
            _reacts(ORCHESTRATOR),
        ),
    ),
    # Who needs which personal data; whatever else an event carries is cut before it is handed.
    needs={
        # owns the order: writes to the customer, ships to the address, and relays the token,
        # sealed for payments (infra/token_seal.py), from the storefront to payments
        ORDERS: frozenset({PersonalData.EMAIL, PersonalData.ADDRESS, PersonalData.PAYMENT_TOKEN}),
        PAYMENTS: frozenset({PersonalData.PAYMENT_TOKEN}),
        SHIPPING: frozenset({PersonalData.ADDRESS}),
        NOTIFICATIONS: frozenset({PersonalData.EMAIL}),
        HANDOFF: frozenset({PersonalData.ADDRESS}),
    },
    # A parked compensation is retried each time a person asks: the loop runs once per request.
    declared_cycles=(
        (EventType.STOCK_RELEASE_FAILED, EventType.UNDO_RETRY_REQUESTED),
        (EventType.PAYMENT_VOID_FAILED, EventType.UNDO_RETRY_REQUESTED),
    ),
)
