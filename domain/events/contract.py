"""The event contract of the choreographed style, declared once as data.

For every event type: its payload model, the party that publishes it, the parties that react and
what each reaction may publish in turn, whether it ends a chain (terminal), whether the step it
reports can be undone (compensable) and which event it undoes (compensates). The participants
route and check events by this table, `python -m starters.contract check` checks the table
itself, and `python -m starters.contract diagram` draws it.
"""

from __future__ import annotations

import builtins
from enum import StrEnum

from pydantic import BaseModel, ValidationError

from domain.base import Model
from domain.events import payloads as p
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


class EventSpec(Model):
    type: EventType
    payload: builtins.type[BaseModel]
    producer: Party
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

    def payload_for(self, consumer: Party, envelope: EventEnvelope) -> BaseModel:
        """The envelope's payload as `consumer` sees it (whether the bus cut it already or it
        was published whole, before payloads were cut); an EventContractError says what is wrong."""
        spec = self.spec(envelope.type)
        seen = spec.seen_by(consumer)
        try:
            payload: BaseModel = seen.model_validate(cut(seen, spec.payload, envelope.payload))
            return payload
        except ValidationError as error:
            raise EventContractError(
                f"malformed {envelope.type} payload: {_first_problems(error)}"
            ) from error


_PROBLEMS_SHOWN = 3
_WHERE_SHOWN = 80


def _first_problems(error: ValidationError) -> str:
    """The first few problems, each where and why: a payload with twenty thousand unknown
    fields is refused in a line, not in a megabyte a participant's query must carry."""
    problems = error.errors(include_url=False, include_input=False)
    shown = [
        f"{'.'.join(str(part) for part in p['loc'])[:_WHERE_SHOWN] or 'payload'}: {p['msg']}"
        for p in problems[:_PROBLEMS_SHOWN]
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


E = EventType
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
            E.ORDER_PLACED,
            p.OrderPayload,
            Party.STOREFRONT,
            "a customer placed an order",
            _reacts(ORDERS, E.ORDER_ACCEPTED),
        ),
        _event(
            E.ORDER_ACCEPTED,
            p.OrderPayload,
            ORDERS,
            "the order is recorded and may proceed",
            # payments first: it keeps the terms, and has them before the stock is held
            _reacts(PAYMENTS, sees=p.PaymentTerms),
            _reacts(INVENTORY, E.STOCK_RESERVED, E.STOCK_RESERVATION_FAILED, sees=p.LinesToReserve),
            _reacts(NOTIFICATIONS, sees=p.CustomerContact),
        ),
        _event(
            E.STOCK_RESERVED,
            p.StockReserved,
            INVENTORY,
            "every line is held for the order",
            _reacts(PAYMENTS, E.PAYMENT_AUTHORIZED, E.PAYMENT_FAILED, sees=p.StockHeld),
            _reacts(ORDERS),
            compensable=True,
        ),
        _event(
            E.STOCK_RESERVATION_FAILED,
            p.StepFailed,
            INVENTORY,
            "the stock could not be reserved",
            _reacts(ORDERS, E.ORDER_CANCELLED),
        ),
        _event(
            E.PAYMENT_AUTHORIZED,
            p.PaymentAuthorized,
            PAYMENTS,
            "the total is authorized on the card",
            _reacts(ORDERS, E.APPROVAL_REQUESTED, E.ORDER_CONFIRMED, E.ORDER_CANCELLED),
            compensable=True,
        ),
        _event(
            E.PAYMENT_FAILED,
            p.StepFailed,
            PAYMENTS,
            "the payment was declined or could not be authorized",
            _reacts(ORDERS, E.ORDER_CANCELLED),
        ),
        _event(
            E.APPROVAL_REQUESTED,
            p.ApprovalRequested,
            ORDERS,
            "the total is above the threshold: a person must decide",
            _reacts(NOTIFICATIONS),
        ),
        _event(
            E.ORDER_CONFIRMED,
            p.OrderConfirmed,
            ORDERS,
            "approved, through its handling time: the order may ship (the pivot)",
            _reacts(
                SHIPPING,
                E.SHIPMENT_DISPATCHED,
                E.SHIPMENT_FAILED,
                E.PARCEL_PICKED_UP,
                E.DELIVERY_LATE,
                E.PARCEL_DELIVERED,
                E.PARCEL_LOST,
                sees=p.ShipmentOrder,
            ),
        ),
        _event(
            E.SHIPMENT_FAILED,
            p.StepFailed,
            SHIPPING,
            "no carrier would take the parcel",
            _reacts(ORDERS, E.ORDER_CANCELLED),
        ),
        _event(
            E.ORDER_CANCELLED,
            p.OrderCancelled,
            ORDERS,
            "the order is cancelled before dispatch: undo what was done",
            _reacts(INVENTORY, E.STOCK_RELEASED, E.STOCK_RELEASE_FAILED),
            _reacts(PAYMENTS, E.PAYMENT_VOIDED, E.PAYMENT_VOID_FAILED),
        ),
        _event(
            E.STOCK_RELEASE_FAILED,
            p.UndoFailed,
            INVENTORY,
            "the held stock could not be released: parked for a person",
            _reacts(ORDERS, E.UNDO_RETRY_REQUESTED, E.UNDONE_BY_HAND),
            _reacts(NOTIFICATIONS),
        ),
        _event(
            E.PAYMENT_VOID_FAILED,
            p.UndoFailed,
            PAYMENTS,
            "the authorization could not be voided: parked for a person",
            _reacts(ORDERS, E.UNDO_RETRY_REQUESTED, E.UNDONE_BY_HAND),
            _reacts(NOTIFICATIONS),
        ),
        _event(
            E.UNDO_RETRY_REQUESTED,
            p.UndoResolution,
            ORDERS,
            "a person asks the services to retry their parked compensation",
            _reacts(INVENTORY, E.STOCK_RELEASED, E.STOCK_RELEASE_FAILED),
            _reacts(PAYMENTS, E.PAYMENT_VOIDED, E.PAYMENT_VOID_FAILED),
        ),
        _event(
            E.UNDONE_BY_HAND,
            p.UndoResolution,
            ORDERS,
            "a person undid the parked compensations by hand: the services record it",
            _reacts(INVENTORY, E.STOCK_RELEASED),
            _reacts(PAYMENTS, E.PAYMENT_VOIDED),
        ),
        _event(
            E.STOCK_RELEASED,
            p.StockReleased,
            INVENTORY,
            "the held stock is back on the shelf",
            _reacts(ORDERS, E.ORDER_ENDED),
            compensates=E.STOCK_RESERVED,
        ),
        _event(
            E.PAYMENT_VOIDED,
            p.PaymentReversed,
            PAYMENTS,
            "the authorization is voided",
            _reacts(ORDERS, E.ORDER_ENDED),
            compensates=E.PAYMENT_AUTHORIZED,
        ),
        _event(
            E.SHIPMENT_DISPATCHED,
            p.ShipmentDispatched,
            SHIPPING,
            "the parcel is handed to the carrier",
            _reacts(PAYMENTS, E.PAYMENT_CAPTURED, sees=p.Dispatched),
            _reacts(INVENTORY, E.STOCK_CONSUMED, sees=p.Dispatched),
            _reacts(NOTIFICATIONS),
            _reacts(ORDERS),
        ),
        _event(
            E.PAYMENT_CAPTURED,
            p.PaymentCaptured,
            PAYMENTS,
            "the customer is charged",
            _reacts(ORDERS, E.ORDER_ENDED),
            compensable=True,
        ),
        _event(
            E.STOCK_CONSUMED,
            p.StockConsumed,
            INVENTORY,
            "the held stock left the warehouse",
            _reacts(ORDERS, E.ORDER_ENDED),
        ),
        _event(
            E.PARCEL_PICKED_UP,
            p.ParcelPickedUp,
            SHIPPING,
            "the carrier picked the parcel up",
            _reacts(ORDERS),
        ),
        _event(
            E.DELIVERY_LATE,
            p.DeliveryLate,
            SHIPPING,
            "the delivery deadline passed: escalate, do not undo",
            _reacts(NOTIFICATIONS),
            _reacts(ORDERS),
        ),
        _event(
            E.PARCEL_DELIVERED,
            p.ParcelDelivered,
            SHIPPING,
            "the carrier delivered the parcel",
            _reacts(ORDERS, E.ORDER_ENDED),
            _reacts(PAYMENTS),
        ),
        _event(
            E.PARCEL_LOST,
            p.ParcelLost,
            SHIPPING,
            "the parcel never arrived: refund the customer",
            _reacts(PAYMENTS, E.PAYMENT_REFUNDED),
            _reacts(ORDERS),
        ),
        _event(
            E.PAYMENT_REFUNDED,
            p.PaymentReversed,
            PAYMENTS,
            "the captured amount is refunded",
            _reacts(ORDERS, E.ORDER_ENDED),
            compensates=E.PAYMENT_CAPTURED,
        ),
        _event(
            E.ORDER_ENDED,
            p.OrderEnded,
            ORDERS,
            "the order completed or was cancelled: tell the customer",
            _reacts(NOTIFICATIONS, E.CUSTOMER_NOTIFIED),
        ),
        _event(
            E.CUSTOMER_NOTIFIED,
            p.CustomerNotified,
            NOTIFICATIONS,
            "the customer has the final word: the orders service closes its books",
            _reacts(ORDERS),
            terminal=True,
        ),
        # The hybrid style: its orchestrator hands the fulfilment to the warehouse, whose
        # participants react to one another, and waits for the outcome as events.
        _event(
            E.FULFILMENT_REQUESTED,
            p.Fulfilment,
            ORCHESTRATOR,
            "the order is paid for and approved: the warehouse takes over (the pivot)",
            _reacts(PICKING, E.ITEMS_PICKED, sees=p.WarehouseFulfilment),
            # the hand-off keeps where the parcel goes; picking and packing never see it
            _reacts(HANDOFF, sees=p.CarrierFulfilment),
        ),
        _event(
            E.ITEMS_PICKED,
            p.ItemsPicked,
            PICKING,
            "every line is on the packing bench",
            _reacts(PACKING, E.PARCEL_PACKED, sees=p.PickedForPacking),
        ),
        _event(
            E.PARCEL_PACKED,
            p.ParcelPacked,
            PACKING,
            "the parcel is packed and labelled",
            _reacts(
                HANDOFF,
                E.PARCEL_HANDED_OVER,
                E.HANDOFF_FAILED,
                E.SHIPMENT_IN_TRANSIT,
                E.SHIPMENT_LATE,
                E.SHIPMENT_DELIVERED,
                E.SHIPMENT_LOST,
                sees=p.PackedForHandoff,
            ),
        ),
        _event(
            E.HANDOFF_FAILED,
            p.StepFailed,
            HANDOFF,
            "no carrier would take the parcel: the orchestrator compensates",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            E.PARCEL_HANDED_OVER,
            p.ParcelHandedOver,
            HANDOFF,
            "the carrier has the parcel: the orchestrator captures the payment",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            E.SHIPMENT_IN_TRANSIT,
            p.ShipmentInTransit,
            HANDOFF,
            "the carrier picked the parcel up",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            E.SHIPMENT_LATE,
            p.ShipmentLate,
            HANDOFF,
            "the delivery deadline passed (operations are told): escalate, do not undo",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            E.SHIPMENT_DELIVERED,
            p.ShipmentDelivered,
            HANDOFF,
            "the carrier delivered the parcel: the fulfilment is over",
            _reacts(ORCHESTRATOR),
        ),
        _event(
            E.SHIPMENT_LOST,
            p.ShipmentLost,
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
        (E.STOCK_RELEASE_FAILED, E.UNDO_RETRY_REQUESTED),
        (E.PAYMENT_VOID_FAILED, E.UNDO_RETRY_REQUESTED),
    ),
)
