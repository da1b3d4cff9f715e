"""The audit of the service stores: the invariants that must hold across them once orders end."""

from __future__ import annotations

from enum import StrEnum

from domain.base import Model
from domain.messages.resolution import ParkedCompensation, RecordResolvedByHand
from domain.services import Service, Style


class AuditRule(StrEnum):
    """What the audit checks; a violation names the rule it breaks."""

    STOCK_NOT_NEGATIVE = "stock_not_negative"
    RESERVED_WITHIN_ON_HAND = "reserved_within_on_hand"
    RESERVED_MATCHES_HOLDS = "reserved_matches_holds"
    NO_HOLD_AFTER_END = "no_hold_after_end"
    COMPLETED_STOCK_CONSUMED = "completed_stock_consumed"
    CANCELLED_STOCK_NOT_CONSUMED = "cancelled_stock_not_consumed"
    PAYMENT_MATCHES_OUTCOME = "payment_matches_outcome"
    NO_OPEN_AUTHORIZATION = "no_open_authorization"
    EFFECT_ONCE = "effect_once"
    COMPLETED_DELIVERED = "completed_delivered"
    CANCELLED_NOT_DISPATCHED = "cancelled_not_dispatched"
    NO_BOOKING_AFTER_CANCEL = "no_booking_after_cancel"
    FINAL_NOTIFICATION_SENT = "final_notification_sent"
    NO_HOLD_WITHOUT_ORDER = "no_hold_without_order"
    """A reservation held or a payment authorized for an order the orders store never recorded:
    nothing will ever release it."""
    ENDED_OR_WAITING = "ended_or_waiting"
    """Checked against Temporal, not a store: an order not ended must have a running workflow."""


class Violation(Model):
    store: Service
    order_id: str | None
    rule: AuditRule
    detail: str


class OpenOrder(Model):
    """An order placed and not ended: the caller asks Temporal whether it is rightly waiting."""

    order_id: str
    style: Style
    workflow_id: str


class ParkedOrder(OpenOrder):
    """An open order whose saga parked compensations it could not do: it waits for a person
    (`starters.resolve_order`), which is no violation, as long as its workflow runs."""

    parked: list[ParkedCompensation]


class ResolvedByHand(RecordResolvedByHand):
    """A compensation a person undid by hand, as the service's store recorded it."""

    excused: list[Violation]
    """What the audit would report as a leak without the record: the stock still held, the
    authorization still open, of the ended order (empty: nothing was left held)."""


class AuditReport(Model):
    orders_placed: int
    orders_checked: int
    """Ended orders (completed or cancelled): the ones whose effects must add up."""
    missing_stores: list[Service]
    """Stores with no database file yet; they are audited as empty."""
    violations: list[Violation]
    open_orders: list[OpenOrder]
    waiting_for_a_person: list[ParkedOrder]
    """Open orders that parked a compensation (also in `open_orders`: Temporal is asked)."""
    resolved_by_hand: list[ResolvedByHand]

    @property
    def clean(self) -> bool:
        return not self.violations


class WaitingOrder(Model):
    """An open order whose workflow is running: legitimately waiting, and for what."""

    order_id: str
    style: Style
    workflow_id: str
    status: str
