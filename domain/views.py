"""What the outside world may see of an order: its outcome, its status and its timeline.

None of these models holds the payment token, so no query result or command output can show it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from domain.base import Model
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus


class EntryKind(StrEnum):
    STEP = "step"
    COMPENSATION = "compensation"
    DECISION = "decision"
    SIGNAL = "signal"
    UPDATE = "update"
    TIMER = "timer"
    NOTIFICATION = "notification"
    EVENT = "event"


class TimelineEntry(Model):
    at: datetime
    kind: EntryKind
    what: str
    service: Service | None = None
    detail: str | None = None


class OrderOutcome(Model):
    """How an order ended. Business failures end in `cancelled`, never in a failed workflow."""

    order_id: str
    status: Literal["completed", "cancelled"]
    reason: CancelReason | None = None
    detail: str | None = None
    total_cents: int
    delivered_late: bool = False


class OrderView(Model):
    """The answer to the `status` query, the same in every style."""

    order_id: str
    style: Style
    status: OrderStatus
    reason: CancelReason | None = None
    customer_id: str
    total_cents: int
    needs_approval: bool
    shipping_address: str
    waiting_for: str | None = None
    deadline: datetime | None = None
    timeline: list[TimelineEntry]
