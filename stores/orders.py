"""orders: the register of every order placed, in any style, and how it ended.

The register is what the audit starts from: an order placed and not ended is open, and the audit
asks Temporal whether it is legitimately waiting.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.services import Style
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores.database import (
    IdempotencyConflictError,
    InvalidRequestError,
    SqliteStore,
    StepOutOfOrderError,
    from_optional_text,
    from_text,
    one_of,
    to_text,
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    style TEXT NOT NULL CHECK ({one_of("style", Style)}),
    workflow_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    placed_at TEXT NOT NULL,
    status TEXT CHECK (status IN ('completed', 'cancelled')),
    reason TEXT CHECK ({one_of("reason", CancelReason)}),
    detail TEXT,
    delivered_late INTEGER CHECK (delivered_late IN (0, 1)),
    ended_at TEXT,
    CHECK ((status IS NULL) = (ended_at IS NULL)),
    CHECK ((status IS NULL) = (delivered_late IS NULL)),
    CHECK (reason IS NULL OR status = 'cancelled')
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (status, placed_at);
"""


class OutcomeConflictError(IdempotencyConflictError):
    """An order that ended one way was reported to end another way: the first outcome stays."""


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    style: Style
    workflow_id: str
    customer_id: str
    total_cents: int
    placed_at: datetime
    outcome: OrderOutcome | None
    ended_at: datetime | None


class OrdersStore(SqliteStore):
    SCHEMA = _SCHEMA

    def record_placed(self, placed: RecordOrderPlaced) -> None:
        """Register the order. Registering it again with the same facts changes nothing."""
        with self._db.write() as db:
            existing = _order(db, placed.order_id)
            if existing is None:
                db.execute(
                    "INSERT INTO orders (order_id, style, workflow_id, customer_id, total_cents,"
                    " placed_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        placed.order_id,
                        placed.style,
                        placed.workflow_id,
                        placed.customer_id,
                        placed.total_cents,
                        to_text(placed.placed_at),
                    ),
                )
                return
            registered = (existing.style, existing.workflow_id, existing.customer_id)
            asked = (placed.style, placed.workflow_id, placed.customer_id)
            if registered != asked or existing.total_cents != placed.total_cents:
                raise IdempotencyConflictError(
                    f"order {placed.order_id}: already placed as {existing.style.value} order "
                    f"{existing.workflow_id} for customer {existing.customer_id} "
                    f"({existing.total_cents} cents); now placed as {placed.style.value} "
                    f"{placed.workflow_id} for {placed.customer_id} ({placed.total_cents} cents)"
                )

    def record_ended(self, ended: RecordOrderEnded) -> None:
        """Record how the order ended. The first outcome wins: a different second one is refused
        (and reported), a repeated identical one changes nothing."""
        outcome = ended.outcome
        with self._db.write() as db:
            existing = _order(db, outcome.order_id)
            if existing is None:
                raise StepOutOfOrderError(
                    f"order {outcome.order_id}: ended {outcome.status} but was never placed"
                )
            if existing.total_cents != outcome.total_cents:
                raise InvalidRequestError(
                    f"order {outcome.order_id}: ended with a total of {outcome.total_cents} "
                    f"cents, but was placed with {existing.total_cents}"
                )
            if existing.outcome is not None:
                if existing.outcome != outcome:
                    raise OutcomeConflictError(
                        f"order {outcome.order_id}: already ended {_describe(existing.outcome)} "
                        f"at {existing.ended_at}; refusing to record {_describe(outcome)}"
                    )
                return
            db.execute(
                "UPDATE orders SET status = ?, reason = ?, detail = ?, delivered_late = ?,"
                " ended_at = ? WHERE order_id = ?",
                (
                    outcome.status,
                    outcome.reason,
                    outcome.detail,
                    int(outcome.delivered_late),
                    to_text(ended.ended_at),
                    outcome.order_id,
                ),
            )

    def order(self, order_id: str) -> OrderRecord | None:
        with self._db.read() as db:
            return _order(db, order_id)

    def orders(self) -> list[OrderRecord]:
        with self._db.read() as db:
            return read_orders(db)

    def open_orders(self) -> list[OrderRecord]:
        """Placed and not ended: running, waiting, or stuck (the audit asks Temporal which)."""
        return [order for order in self.orders() if order.outcome is None]


def read_orders(db: sqlite3.Connection) -> list[OrderRecord]:
    rows = db.execute("SELECT * FROM orders ORDER BY placed_at, order_id").fetchall()
    return [_record(row) for row in rows]


def _order(db: sqlite3.Connection, order_id: str) -> OrderRecord | None:
    row = db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return None if row is None else _record(row)


def _record(row: sqlite3.Row) -> OrderRecord:
    outcome = None
    if row["status"] is not None:
        outcome = OrderOutcome(
            order_id=row["order_id"],
            status=row["status"],
            reason=row["reason"],
            detail=row["detail"],
            total_cents=row["total_cents"],
            delivered_late=bool(row["delivered_late"]),
        )
    return OrderRecord(
        order_id=row["order_id"],
        style=Style(row["style"]),
        workflow_id=row["workflow_id"],
        customer_id=row["customer_id"],
        total_cents=row["total_cents"],
        placed_at=from_text(row["placed_at"]),
        outcome=outcome,
        ended_at=from_optional_text(row["ended_at"]),
    )


def _describe(outcome: OrderOutcome) -> str:
    reason = f" ({outcome.reason.value})" if outcome.reason else ""
    return f"{outcome.status}{reason}"
