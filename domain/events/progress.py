"""Where an order stands once an event has happened: how a participant that only sees part of
the order keeps its `OrderStatus` search attribute meaningful in the Web UI's lists."""

from __future__ import annotations

from pydantic import BaseModel

from domain.events import payloads as p
from domain.events.contract import EventType
from domain.status import OrderStatus

E = EventType

STATUS_AFTER: dict[EventType, OrderStatus] = {
    E.ORDER_ACCEPTED: OrderStatus.PLACED,
    E.STOCK_RESERVED: OrderStatus.STOCK_RESERVED,
    E.PAYMENT_AUTHORIZED: OrderStatus.PAYMENT_AUTHORIZED,
    E.APPROVAL_REQUESTED: OrderStatus.AWAITING_APPROVAL,
    E.ORDER_CONFIRMED: OrderStatus.DISPATCHING,
    E.FULFILMENT_REQUESTED: OrderStatus.DISPATCHING,
    E.ITEMS_PICKED: OrderStatus.DISPATCHING,
    E.PARCEL_PACKED: OrderStatus.DISPATCHING,
    E.SHIPMENT_DISPATCHED: OrderStatus.DISPATCHED,
    E.PARCEL_HANDED_OVER: OrderStatus.DISPATCHED,
    E.PARCEL_PICKED_UP: OrderStatus.IN_TRANSIT,
    E.SHIPMENT_IN_TRANSIT: OrderStatus.IN_TRANSIT,
    E.DELIVERY_LATE: OrderStatus.DELIVERY_LATE,
    E.SHIPMENT_LATE: OrderStatus.DELIVERY_LATE,
    E.PARCEL_DELIVERED: OrderStatus.COMPLETED,
    E.SHIPMENT_DELIVERED: OrderStatus.COMPLETED,
    E.ORDER_CANCELLED: OrderStatus.COMPENSATING,
    E.STOCK_RELEASE_FAILED: OrderStatus.NEEDS_ATTENTION,
    E.PAYMENT_VOID_FAILED: OrderStatus.NEEDS_ATTENTION,
    E.PARCEL_LOST: OrderStatus.CANCELLED,
    E.SHIPMENT_LOST: OrderStatus.CANCELLED,
}
"""Events that say nothing of the order as a whole (a failure the orders service has yet to
decide on, a compensation's confirmation) are left out."""

_ORDER = list(OrderStatus)


def status_after(event_type: EventType, payload: BaseModel) -> OrderStatus | None:
    if isinstance(payload, p.OrderEnded):
        return OrderStatus(payload.outcome.status)
    return STATUS_AFTER.get(event_type)


def moves_forward(current: OrderStatus | None, new: OrderStatus) -> bool:
    """Statuses only go forward: a late event never takes an order back."""
    return current is None or (not current.is_final and _ORDER.index(new) > _ORDER.index(current))
