"""inventory: stock levels and reservations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from domain.base import Model
from domain.order import OrderId, Sku


class StockLine(Model):
    sku: Sku
    quantity: Annotated[int, Field(gt=0)]


class ReserveStock(Model):
    """Reserve every line, all or nothing."""

    order_id: OrderId
    lines: Annotated[list[StockLine], Field(min_length=1)]
    simulate_out_of_stock: bool = False


class ReservationResult(Model):
    order_id: str
    lines: list[StockLine]


class ReleaseResult(Model):
    """`released_units` is 0 when nothing was held (never reserved); a repeated release reports
    the units the first one released."""

    order_id: str
    released_units: int


class ConsumeResult(Model):
    order_id: str
    consumed_units: int
