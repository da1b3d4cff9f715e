"""Compensations a person undid by hand, kept by the service whose compensation it was.

inventory and payments each keep a `resolved_by_hand` table of this shape. A compensation the
saga parked (`domain.messages.resolution`) was then done outside the system (the authorization
voided in the gateway's console, the stock put back on the shelf) and a person said so with
`starters.resolve_order --mark-done`. The row changes no stock and no ledger: it is what the
audit reads to report the hold left behind as resolved by hand, with who and how, not as a leak.
"""

from __future__ import annotations

from domain.messages.resolution import Compensation, RecordResolvedByHand
from domain.services import Service
from stores.database import (
    Connection,
    IdempotencyConflictError,
    InvalidRequestError,
    ResultRow,
    from_text,
    has_table,
    one_of,
    to_text,
)

TABLE = "resolved_by_hand"


def resolutions_schema(service: Service) -> str:
    """The table, its compensations limited to `service`'s own."""
    own = [compensation for compensation in Compensation if compensation.service is service]
    return f"""
-- Compensations a person undid by hand (`starters.resolve_order --mark-done`): one per order and
-- compensation. It changes no stock and no ledger; the audit reads it to excuse the hold left.
CREATE TABLE IF NOT EXISTS {TABLE} (
    order_id TEXT NOT NULL,
    compensation TEXT NOT NULL CHECK ({one_of("compensation", own)}),
    resolved_by TEXT NOT NULL,
    note TEXT NOT NULL,
    resolved_at TEXT NOT NULL,
    PRIMARY KEY (order_id, compensation)
);
"""


def record_resolution(db: Connection, service: Service, request: RecordResolvedByHand) -> None:
    """Record the resolution once. The same one again changes nothing (a retried activity); the
    same compensation resolved by someone else or with another note is refused: the first word
    stays, as every other effect of these stores."""
    if request.compensation.service is not service:
        raise InvalidRequestError(
            f"order {request.order_id}: {request.compensation.value} is a compensation of "
            f"{request.compensation.service.value}, not of {service.value}"
        )
    existing = _resolution(db, request.order_id, request.compensation)
    if existing is None:
        db.execute(
            f"INSERT INTO {TABLE} (order_id, compensation, resolved_by, note, resolved_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                request.order_id,
                request.compensation,
                request.resolved_by,
                request.note,
                to_text(request.at),
            ),
        )
        return
    if (existing.resolved_by, existing.note) != (request.resolved_by, request.note):
        raise IdempotencyConflictError(
            f"order {request.order_id}: {request.compensation.what} was already resolved by hand "
            f"by {existing.resolved_by} ({existing.note!r}); now by {request.resolved_by} "
            f"({request.note!r})"
        )


def read_resolutions(db: Connection, order_id: str | None = None) -> list[RecordResolvedByHand]:
    """The resolutions recorded, of one order or of all; none in a store file older than the
    table."""
    if not has_table(db, TABLE):
        return []
    where, arguments = ("WHERE order_id = ?", (order_id,)) if order_id else ("", ())
    rows = db.execute(
        f"SELECT * FROM {TABLE} {where} ORDER BY order_id, compensation", arguments
    ).fetchall()
    return [_from_row(row) for row in rows]


def _resolution(
    db: Connection, order_id: str, compensation: Compensation
) -> RecordResolvedByHand | None:
    row = db.execute(
        f"SELECT * FROM {TABLE} WHERE order_id = ? AND compensation = ?",
        (order_id, compensation),
    ).fetchone()
    return None if row is None else _from_row(row)


def _from_row(row: ResultRow) -> RecordResolvedByHand:
    return RecordResolvedByHand(
        order_id=row["order_id"],
        compensation=Compensation(row["compensation"]),
        resolved_by=row["resolved_by"],
        note=row["note"],
        at=from_text(row["resolved_at"]),
    )
