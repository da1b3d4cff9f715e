"""Where an order stands, and why it was cancelled."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PLACED = "placed"
    STOCK_RESERVED = "stock_reserved"
    PAYMENT_AUTHORIZED = "payment_authorized"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_DISPATCH = "awaiting_dispatch"
    DISPATCHING = "dispatching"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    DELIVERY_LATE = "delivery_late"
    COMPENSATING = "compensating"
    NEEDS_ATTENTION = "needs_attention"
    """A compensation could not be done (refused, or failing past its budget): the others were,
    and the order waits for a person to retry it or to undo it by hand (`starters.resolve_order`).
    """
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)

    @property
    def is_being_undone(self) -> bool:
        """Compensating, or parked for a person: the order is cancelled, not yet ended."""
        return self in (OrderStatus.COMPENSATING, OrderStatus.NEEDS_ATTENTION)

    @property
    def is_past_dispatch(self) -> bool:
        """Dispatch is the pivot: from `dispatching` on, the order only moves forward."""
        return self in _PAST_DISPATCH


_PAST_DISPATCH = frozenset(
    {
        OrderStatus.DISPATCHING,
        OrderStatus.DISPATCHED,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERY_LATE,
        OrderStatus.COMPLETED,
    }
)


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_DECLINED = "payment_declined"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_TIMEOUT = "approval_timeout"
    CUSTOMER_CANCELLED = "customer_cancelled"
    CARRIER_REJECTED = "carrier_rejected"
    SERVICE_UNAVAILABLE = "service_unavailable"
    LOST_IN_TRANSIT = "lost_in_transit"
    WORKFLOW_CANCELLED = "workflow_cancelled"
