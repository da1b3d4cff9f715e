"""Where an order stands once an event has happened: how a participant that only sees part of
the order keeps its `OrderStatus` search attribute meaningful in the Web UI's lists."""

from __future__ import annotations

from pydantic import BaseModel

from domain.events import payloads
from domain.events.contract import EventType
from domain.status import OrderStatus

STATUS_AFTER: dict[EventType, OrderStatus] = {
    EventType.ORDER_ACCEPTED: OrderStatus.PLACED,
    EventType.STOCK_RESERVED: OrderStatus.STOCK_RESERVED,
    EventType.PAYMENT_AUTHORIZED: OrderStatus.PAYMENT_AUTHORIZED,
    EventType.APPROVAL_REQUESTED: OrderStatus.AWAITING_APPROVAL,
    EventType.ORDER_CONFIRMED: OrderStatus.DISPATCHING,
    EventType.FULFILMENT_REQUESTED: OrderStatus.DISPATCHING,
    EventType.ITEMS_PICKED: OrderStatus.DISPATCHING,
    EventType.PARCEL_PACKED: OrderStatus.DISPATCHING,
    EventType.SHIPMENT_DISPATCHED: OrderStatus.DISPATCHED,
    EventType.PARCEL_HANDED_OVER: OrderStatus.DISPATCHED,
    EventType.PARCEL_PICKED_UP: OrderStatus.IN_TRANSIT,
    EventType.SHIPMENT_IN_TRANSIT: OrderStatus.IN_TRANSIT,
    EventType.DELIVERY_LATE: OrderStatus.DELIVERY_LATE,
    EventType.SHIPMENT_LATE: OrderStatus.DELIVERY_LATE,
    EventType.PARCEL_DELIVERED: OrderStatus.COMPLETED,
    EventType.SHIPMENT_DELIVERED: OrderStatus.COMPLETED,
    EventType.ORDER_CANCELLED: OrderStatus.COMPENSATING,
    EventType.STOCK_RELEASE_FAILED: OrderStatus.NEEDS_ATTENTION,
    EventType.PAYMENT_VOID_FAILED: OrderStatus.NEEDS_ATTENTION,
    EventType.PARCEL_LOST: OrderStatus.CANCELLED,
    EventType.SHIPMENT_LOST: OrderStatus.CANCELLED,
}
"""Events that say nothing of the order as a whole (a failure the orders service has yet to
decide on, a compensation's confirmation) are left out."""

_ORDER = list(OrderStatus)


def status_after(event_type: EventType, payload: BaseModel) -> OrderStatus | None:
    if isinstance(payload, payloads.OrderEnded):
        return OrderStatus(payload.outcome.status)
    return STATUS_AFTER.get(event_type)


def moves_forward(current: OrderStatus | None, new: OrderStatus) -> bool:
    """Statuses only go forward: a late event never takes an order back."""
    return current is None or (not current.is_final and _ORDER.index(new) > _ORDER.index(current))
