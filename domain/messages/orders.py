"""orders: the register of every order placed and how it ended, whatever its style."""

from __future__ import annotations

from datetime import datetime

from domain.base import Model
from domain.order import OrderId
from domain.services import Style
from domain.views import OrderOutcome


class RecordOrderPlaced(Model):
    order_id: OrderId
    style: Style
    workflow_id: str
    customer_id: str
    total_cents: int
    placed_at: datetime


class RecordOrderEnded(Model):
    style: Style
    outcome: OrderOutcome
    ended_at: datetime
