"""orders: the register of every order placed, in any style, and how it ended.

The register is what the audit starts from: an order placed and not ended is open, and the audit
asks Temporal whether it is legitimately waiting. An open order whose saga parked a compensation
says so here (`parked_compensations`), so the audit reports it as waiting for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.messages.orders import RecordOrderEnded, RecordOrderPlaced
from domain.messages.resolution import Compensation, ParkedCompensation, RecordOrderParked
from domain.services import Service, Style
from domain.status import CancelReason
from domain.views import OrderOutcome
from stores.database import (
    Connection,
    IdempotencyConflictError,
    InvalidRequestError,
    ResultRow,
    ServiceStore,
    StepOutOfOrderError,
    from_optional_text,
    from_text,
    has_table,
    one_of,
    retried_on_conflict,
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
-- The compensations an open order has parked for a person, as the order last said
-- (`record_order_parked` replaces them, its end clears them).
CREATE TABLE IF NOT EXISTS parked_compensations (
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    compensation TEXT NOT NULL CHECK ({one_of("compensation", Compensation)}),
    why TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (order_id, compensation)
);
"""
_PARKED = "parked_compensations"


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
    parked: tuple[ParkedCompensation, ...] = ()
    """What the open order waits for a person about; nothing once it has ended."""


class OrdersStore(ServiceStore):
    SERVICE = Service.ORDERS
    SCHEMA = _SCHEMA

    @retried_on_conflict
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

    @retried_on_conflict
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
            db.execute(f"DELETE FROM {_PARKED} WHERE order_id = ?", (outcome.order_id,))
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

    @retried_on_conflict
    def record_parked(self, parked: RecordOrderParked) -> None:
        """The compensations the order now waits for a person about, replacing what it said
        before (none: it waits no more). Repeating it changes nothing. An order that has ended
        waits for nobody: a late attempt that would park it again is refused."""
        with self._db.write() as db:
            existing = _order(db, parked.order_id)
            if existing is None:
                raise StepOutOfOrderError(
                    f"order {parked.order_id}: parked a compensation but was never placed"
                )
            if existing.outcome is not None and parked.parked:
                raise StepOutOfOrderError(
                    f"order {parked.order_id}: already ended {_describe(existing.outcome)} at "
                    f"{existing.ended_at}; it cannot wait for a person any more"
                )
            db.execute(f"DELETE FROM {_PARKED} WHERE order_id = ?", (parked.order_id,))
            db.executemany(
                f"INSERT INTO {_PARKED} (order_id, compensation, why, since) VALUES (?, ?, ?, ?)",
                [(parked.order_id, p.compensation, p.why, to_text(p.since)) for p in parked.parked],
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


def read_orders(db: Connection) -> list[OrderRecord]:
    rows = db.execute("SELECT * FROM orders ORDER BY placed_at, order_id").fetchall()
    parked = _parked(db)
    return [_record(row, parked.get(row["order_id"], ())) for row in rows]


def _order(db: Connection, order_id: str) -> OrderRecord | None:
    row = db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return None if row is None else _record(row, _parked(db, order_id).get(order_id, ()))


def _parked(
    db: Connection, order_id: str | None = None
) -> dict[str, tuple[ParkedCompensation, ...]]:
    """Parked compensations by order, of one order or of all (none in a store file older than
    the table: the audit reads such a file as it is)."""
    if not has_table(db, _PARKED):
        return {}
    where, arguments = ("WHERE order_id = ?", (order_id,)) if order_id else ("", ())
    rows = db.execute(
        f"SELECT * FROM {_PARKED} {where} ORDER BY order_id, since, compensation", arguments
    ).fetchall()
    parked: dict[str, list[ParkedCompensation]] = {}
    for row in rows:
        parked.setdefault(row["order_id"], []).append(
            ParkedCompensation(
                compensation=Compensation(row["compensation"]),
                why=row["why"],
                since=from_text(row["since"]),
            )
        )
    return {order: tuple(compensations) for order, compensations in parked.items()}


def _record(row: ResultRow, parked: tuple[ParkedCompensation, ...]) -> OrderRecord:
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
        parked=parked,
    )


def _describe(outcome: OrderOutcome) -> str:
    reason = f" ({outcome.reason.value})" if outcome.reason else ""
    return f"{outcome.status}{reason}"
