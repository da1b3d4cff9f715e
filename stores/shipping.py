"""shipping: shipments, the carrier's reports about them, and the carrier's outbox.

The simulated carrier reports back later, like a real carrier's webhook. At dispatch the store
writes the reports it will send (the outbox) in the same transaction as the dispatch, so a
dispatched parcel always has its reports scheduled, and a parcel never dispatched never reports.
`workers/carrier_simulator.py` sends them when due.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.errors import BusinessError
from domain.faults import CarrierBehaviour
from domain.messages.shipping import (
    BookingResult,
    CancelShipmentResult,
    CarrierEventKind,
    CarrierReport,
    CarrierSignals,
    DispatchResult,
)
from domain.services import Service
from stores.database import (
    AUTO_ID,
    Clock,
    Connection,
    InvalidRequestError,
    ResultRow,
    ServiceStore,
    StepOutOfOrderError,
    StoreError,
    StoreLocation,
    from_optional_text,
    from_text,
    has_column,
    one_of,
    retried_on_conflict,
    to_text,
    utc_now,
)

CARRIER = "ParcelSim"
_T = TypeVar("_T")


class ShipmentState(StrEnum):
    BOOKED = "booked"
    DISPATCHED = "dispatched"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    LOST = "lost"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"


HANDED_OVER = (
    ShipmentState.DISPATCHED,
    ShipmentState.PICKED_UP,
    ShipmentState.DELIVERED,
    ShipmentState.LOST,
)
"""The states of a parcel that left the warehouse: past the pivot, nothing can cancel it."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS shipments (
    order_id TEXT PRIMARY KEY,
    shipment_id TEXT UNIQUE,
    carrier TEXT,
    tracking_number TEXT UNIQUE,
    state TEXT NOT NULL CHECK ({one_of("state", ShipmentState)}),
    address_line TEXT,
    parcels INTEGER CHECK (parcels > 0),
    booked_at TEXT,
    dispatched_at TEXT,
    picked_up_at TEXT,
    delivered_at TEXT,
    cancelled_at TEXT,
    lost_at TEXT,
    -- Only a tombstone (cancelled before anything was booked) lacks the booking.
    CHECK (state = 'cancelled' OR (shipment_id IS NOT NULL AND carrier IS NOT NULL
        AND tracking_number IS NOT NULL AND address_line IS NOT NULL AND parcels IS NOT NULL
        AND booked_at IS NOT NULL)),
    CHECK (({one_of("state", HANDED_OVER)}) = (dispatched_at IS NOT NULL)),
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL)),
    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK ((state = 'lost') = (lost_at IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS carrier_events (
    event_id {AUTO_ID},
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK ({one_of("kind", CarrierEventKind)}),
    tracking_number TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (order_id, kind)
);
CREATE TABLE IF NOT EXISTS carrier_outbox (
    report_id {AUTO_ID},
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK ({one_of("kind", CarrierEventKind)}),
    tracking_number TEXT NOT NULL,
    due_at TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    signal_name TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK ({one_of("state", OutboxState)}),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT,
    claimed_until TEXT,
    UNIQUE (order_id, kind),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS carrier_outbox_due ON carrier_outbox (state, next_attempt_at);
"""

# How far each report moves a parcel; a report never moves it back (reports may arrive late).
_ADVANCES_FROM = {
    CarrierEventKind.PICKED_UP: (ShipmentState.DISPATCHED,),
    CarrierEventKind.DELIVERED: (ShipmentState.DISPATCHED, ShipmentState.PICKED_UP),
}


class ShipmentClosedError(StoreError):
    """Tombstone: the shipment was cancelled, so a late (zombie) book or dispatch is refused."""

    # The closest existing type until domain.errors has one for a closed order.
    error_type = BusinessError.ORDER_CLOSED.value


class CarrierRejectedError(StoreError):
    """No carrier takes the parcel: a business answer, retrying cannot change it."""

    error_type = BusinessError.CARRIER_REJECTED.value


class AlreadyDispatchedError(StoreError):
    """Past the pivot: the parcel left the warehouse and can no longer be cancelled or changed."""

    # The closest existing type until domain.errors has one for "already dispatched".
    error_type = BusinessError.ALREADY_DISPATCHED.value


@dataclass(frozen=True)
class Shipment:
    """A booked shipment. (Cancelling an order with nothing booked leaves a tombstone in the
    table so that a late booking is refused; that is not a shipment, and reads as none.)"""

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    state: ShipmentState
    address_line: str
    parcels: int
    booked_at: datetime
    dispatched_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class OutboxReport:
    """A report the carrier owes a workflow: what to signal, to whom, and how it went so far."""

    report_id: int
    order_id: str
    kind: CarrierEventKind
    tracking_number: str
    due_at: datetime
    workflow_id: str
    signal_name: str
    state: OutboxState
    attempts: int
    last_error: str | None

    def to_report(self) -> CarrierReport:
        return CarrierReport(
            order_id=self.order_id,
            tracking_number=self.tracking_number,
            kind=self.kind,
            at=self.due_at,
        )


class ShippingStore(ServiceStore):
    SERVICE = Service.SHIPPING
    SCHEMA = _SCHEMA

    def __init__(self, location: StoreLocation, clock: Clock = utc_now) -> None:
        super().__init__(location, clock)
        self._add_the_claim_column()

    @retried_on_conflict
    def _add_the_claim_column(self) -> None:
        """A store made before claims (one deliverer per report) gets the column; its pending
        reports are unclaimed."""
        with self._db.write() as db:
            if not has_column(db, "carrier_outbox", "claimed_until"):
                db.execute("ALTER TABLE carrier_outbox ADD COLUMN claimed_until TEXT")

    @retried_on_conflict
    def book(
        self, order_id: str, address_line: str, parcels: int, simulate_rejection: bool = False
    ) -> BookingResult:
        """Book the carrier. Booking again before dispatch keeps the shipment and tracking number
        and takes the new address, which is how an address change reaches the carrier. A
        rejected booking books nothing."""
        if parcels < 1:
            raise InvalidRequestError(f"order {order_id}: cannot book {parcels} parcels")
        if simulate_rejection:
            raise CarrierRejectedError(
                f"order {order_id}: no carrier takes {parcels} parcel(s) to {address_line}"
                " (simulated)"
            )
        now = self._now()
        with self._db.write() as db:
            _refuse_if_cancelled(db, order_id, "book")
            shipment = _shipment(db, order_id)
            if shipment is None:
                db.execute(
                    "INSERT INTO shipments (order_id, shipment_id, carrier, tracking_number, state,"
                    " address_line, parcels, booked_at) VALUES (?, ?, ?, ?, 'booked', ?, ?, ?)",
                    (
                        order_id,
                        _new_id("shp-"),
                        CARRIER,
                        _new_id("TRK").upper(),
                        address_line,
                        parcels,
                        now,
                    ),
                )
                shipment = _required(_shipment(db, order_id))
            elif (shipment.address_line, shipment.parcels) != (address_line, parcels):
                if shipment.state is not ShipmentState.BOOKED:
                    raise _already_dispatched(shipment, "change the booking")
                db.execute(
                    "UPDATE shipments SET address_line = ?, parcels = ? WHERE order_id = ?",
                    (address_line, parcels, order_id),
                )
        return BookingResult(
            order_id=order_id,
            shipment_id=shipment.shipment_id,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
        )

    @retried_on_conflict
    def dispatch(
        self, order_id: str, report_to: CarrierSignals, carrier: CarrierBehaviour
    ) -> DispatchResult:
        """Hand the parcel to the carrier and schedule its reports. A repeated call returns the
        first dispatch and schedules nothing more."""
        now = self._clock()
        with self._db.write() as db:
            _refuse_if_cancelled(db, order_id, "dispatch")
            shipment = _shipment(db, order_id)
            if shipment is None:
                raise StepOutOfOrderError(f"order {order_id}: dispatch before any booking")
            if shipment.state is ShipmentState.BOOKED:
                db.execute(
                    "UPDATE shipments SET state = 'dispatched', dispatched_at = ?"
                    " WHERE order_id = ?",
                    (to_text(now), order_id),
                )
                _schedule_reports(db, shipment, now, report_to, carrier)
                shipment = _required(_shipment(db, order_id))
        return DispatchResult(
            order_id=order_id,
            tracking_number=shipment.tracking_number,
            dispatched_at=_required(shipment.dispatched_at),
        )

    @retried_on_conflict
    def cancel(self, order_id: str) -> CancelShipmentResult:
        """Cancel a booking that was not dispatched. With nothing booked, leave a tombstone so a
        late booking is refused; `cancelled` then says False (there was nothing to cancel)."""
        now = self._now()
        with self._db.write() as db:
            shipment = _shipment(db, order_id)
            if shipment is None:
                db.execute(
                    "INSERT INTO shipments (order_id, state, cancelled_at)"
                    " VALUES (?, 'cancelled', ?) ON CONFLICT DO NOTHING",
                    (order_id, now),
                )
                return CancelShipmentResult(order_id=order_id, cancelled=False)
            if shipment.state in HANDED_OVER:
                raise _already_dispatched(shipment, "cancel")
            if shipment.state is ShipmentState.BOOKED:
                db.execute(
                    "UPDATE shipments SET state = 'cancelled', cancelled_at = ? WHERE order_id = ?",
                    (now, order_id),
                )
        return CancelShipmentResult(order_id=order_id, cancelled=True)

    @retried_on_conflict
    def record_carrier_event(self, report: CarrierReport) -> bool:
        """Keep what the carrier reported and move the parcel forward. Returns False for a
        report already recorded (the carrier and the workflow may both repeat themselves)."""
        order_id = report.order_id
        with self._db.write() as db:
            shipment = _shipment(db, order_id)
            if shipment is None or shipment.state not in HANDED_OVER:
                state = shipment.state.value if shipment else "not booked"
                raise StepOutOfOrderError(
                    f"order {order_id}: carrier reported {report.kind.value}, "
                    f"but the shipment is {state}"
                )
            if shipment.tracking_number != report.tracking_number:
                raise InvalidRequestError(
                    f"order {order_id}: carrier reported on parcel {report.tracking_number}, "
                    f"but the order's parcel is {shipment.tracking_number}"
                )
            inserted = db.execute(
                "INSERT INTO carrier_events (order_id, kind, tracking_number, at, received_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (order_id, report.kind, report.tracking_number, to_text(report.at), self._now()),
            ).rowcount
            _advance(db, order_id, report)
        return inserted == 1

    @retried_on_conflict
    def mark_lost(self, order_id: str) -> None:
        """The delivery never came: the parcel is lost. Idempotent."""
        with self._db.write() as db:
            shipment = _shipment(db, order_id)
            if shipment is None or shipment.state not in (
                ShipmentState.DISPATCHED,
                ShipmentState.PICKED_UP,
                ShipmentState.LOST,
            ):
                state = shipment.state.value if shipment else "not booked"
                raise StepOutOfOrderError(
                    f"order {order_id}: cannot mark the parcel lost, the shipment is {state}"
                )
            db.execute(
                "UPDATE shipments SET state = 'lost', lost_at = ?"
                " WHERE order_id = ? AND state <> 'lost'",
                (self._now(), order_id),
            )

    @retried_on_conflict
    def claim_due(self, now: datetime, lease: timedelta, limit: int = 100) -> list[OutboxReport]:
        """Pending reports whose time has come (and whose last failed attempt has cooled off),
        each claimed for `lease`: another deliverer (a second shipping worker) is not handed it
        again until the lease has passed, so a report is sent by one deliverer at a time, and by
        another only if the first stopped before it said how the report went.

        A parcel's reports go out in order: one is handed out only once every earlier one of the
        same parcel has been sent (or given up on), so a round holds one report per parcel at
        most. Two shipping workers once sent a delivery before its pickup, which was in the
        other's hands; the workflow ended on the delivery and the pickup was never recorded. And
        a pickup that failed and cooled off past its delivery's time came out after the delivery
        in the same round, or was left out of a full round that held the delivery."""
        at = to_text(now)
        with self._db.write() as db:
            rows = db.execute(
                "UPDATE carrier_outbox SET claimed_until = ? WHERE report_id IN ("
                " SELECT report_id FROM carrier_outbox AS later"
                " WHERE state = 'pending' AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until <= ?)"
                " AND NOT EXISTS (SELECT 1 FROM carrier_outbox AS earlier"
                "  WHERE earlier.order_id = later.order_id AND earlier.state = 'pending'"
                "  AND earlier.report_id < later.report_id)"
                " ORDER BY next_attempt_at, report_id LIMIT ?) RETURNING *",
                (to_text(now + lease), at, at, limit),
            ).fetchall()
        ordered = sorted(rows, key=lambda row: (row["next_attempt_at"], row["report_id"]))
        return [_outbox_report(row) for row in ordered]

    def next_due_at(self) -> datetime | None:
        """When the earliest pending report falls due, or its claim ends (it may be past);
        None: none pending."""
        with self._db.read() as db:
            row = db.execute(
                "SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until"
                " ELSE next_attempt_at END) FROM carrier_outbox WHERE state = 'pending'"
            ).fetchone()
        return from_optional_text(row[0])

    @retried_on_conflict
    def mark_sent(self, report_id: int) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE carrier_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1"
                " WHERE report_id = ? AND state = 'pending'",
                (self._now(), report_id),
            )

    @retried_on_conflict
    def mark_undeliverable(self, report_id: int, reason: str) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE carrier_outbox SET state = 'undeliverable', last_error = ?,"
                " attempts = attempts + 1 WHERE report_id = ? AND state = 'pending'",
                (reason, report_id),
            )

    @retried_on_conflict
    def mark_retry(
        self, report_id: int, error: str, *, retry_after: timedelta, max_attempts: int
    ) -> OutboxState:
        """Count a failed attempt; after `max_attempts` give up (undeliverable)."""
        retry_at = to_text(self._clock() + retry_after)
        with self._db.write() as db:
            row = db.execute(
                "UPDATE carrier_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, claimed_until = NULL,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'undeliverable' ELSE state END"
                " WHERE report_id = ? AND state = 'pending' RETURNING state",
                (error, retry_at, max_attempts, report_id),
            ).fetchone()
            if row is None:  # no longer pending: report where it stands
                row = db.execute(
                    "SELECT state FROM carrier_outbox WHERE report_id = ?", (report_id,)
                ).fetchone()
        if row is None:
            raise InvalidRequestError(f"no carrier report {report_id} in the outbox")
        return OutboxState(row["state"])

    def shipment(self, order_id: str) -> Shipment | None:
        with self._db.read() as db:
            return _shipment(db, order_id)

    def reports(self, order_id: str) -> list[OutboxReport]:
        with self._db.read() as db:
            rows = db.execute(
                "SELECT * FROM carrier_outbox WHERE order_id = ? ORDER BY due_at, report_id",
                (order_id,),
            ).fetchall()
        return [_outbox_report(row) for row in rows]

    def carrier_events(self, order_id: str) -> list[CarrierReport]:
        with self._db.read() as db:
            rows = db.execute(
                "SELECT * FROM carrier_events WHERE order_id = ? ORDER BY at, event_id", (order_id,)
            ).fetchall()
        return [
            CarrierReport(
                order_id=row["order_id"],
                tracking_number=row["tracking_number"],
                kind=CarrierEventKind(row["kind"]),
                at=from_text(row["at"]),
            )
            for row in rows
        ]


def _schedule_reports(
    db: Connection,
    shipment: Shipment,
    dispatched_at: datetime,
    report_to: CarrierSignals,
    carrier: CarrierBehaviour,
) -> None:
    """Put the carrier's reports in its outbox: pickup, then delivery (unless it will be lost)."""
    picked_up_at = dispatched_at + carrier.pickup_after
    due = [(CarrierEventKind.PICKED_UP, picked_up_at, report_to.picked_up_signal)]
    if carrier.deliver_after is not None:
        delivered_at = picked_up_at + carrier.deliver_after
        due.append((CarrierEventKind.DELIVERED, delivered_at, report_to.delivered_signal))
    for kind, at, signal_name in due:
        db.execute(
            "INSERT INTO carrier_outbox (order_id, kind, tracking_number, due_at, workflow_id,"
            " signal_name, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                shipment.order_id,
                kind,
                shipment.tracking_number,
                to_text(at),
                report_to.workflow_id,
                signal_name,
                to_text(at),
            ),
        )


def _advance(db: Connection, order_id: str, report: CarrierReport) -> None:
    at = to_text(report.at)
    if report.kind is CarrierEventKind.PICKED_UP:
        db.execute(
            "UPDATE shipments SET picked_up_at = COALESCE(picked_up_at, ?) WHERE order_id = ?",
            (at, order_id),
        )
    froms = _ADVANCES_FROM[report.kind]
    delivered_at = at if report.kind is CarrierEventKind.DELIVERED else None
    db.execute(
        f"UPDATE shipments SET state = ?, delivered_at = COALESCE(delivered_at, ?)"
        f" WHERE order_id = ? AND state IN ({', '.join('?' for _ in froms)})",
        (report.kind, delivered_at, order_id, *froms),
    )


def _shipment(db: Connection, order_id: str) -> Shipment | None:
    row = db.execute(
        "SELECT * FROM shipments WHERE order_id = ? AND shipment_id IS NOT NULL", (order_id,)
    ).fetchone()
    if row is None:
        return None
    return Shipment(
        order_id=row["order_id"],
        shipment_id=row["shipment_id"],
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        state=ShipmentState(row["state"]),
        address_line=row["address_line"],
        parcels=row["parcels"],
        booked_at=from_text(row["booked_at"]),
        dispatched_at=from_optional_text(row["dispatched_at"]),
        cancelled_at=from_optional_text(row["cancelled_at"]),
    )


def _refuse_if_cancelled(db: Connection, order_id: str, step: str) -> None:
    """The tombstone rule: once cancelled (booked or not), a late attempt ships nothing."""
    row = db.execute(
        "SELECT cancelled_at FROM shipments WHERE order_id = ? AND state = 'cancelled'",
        (order_id,),
    ).fetchone()
    if row is not None:
        raise ShipmentClosedError(
            f"order {order_id}: {step} refused: the shipment was cancelled at "
            f"{row['cancelled_at']}; a late attempt must not ship the order"
        )


def _outbox_report(row: ResultRow) -> OutboxReport:
    return OutboxReport(
        report_id=row["report_id"],
        order_id=row["order_id"],
        kind=CarrierEventKind(row["kind"]),
        tracking_number=row["tracking_number"],
        due_at=from_text(row["due_at"]),
        workflow_id=row["workflow_id"],
        signal_name=row["signal_name"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


def _already_dispatched(shipment: Shipment, step: str) -> AlreadyDispatchedError:
    return AlreadyDispatchedError(
        f"order {shipment.order_id}: cannot {step}: parcel {shipment.tracking_number} was "
        f"dispatched at {shipment.dispatched_at} and is {shipment.state.value}"
    )


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def _required(value: _T | None) -> _T:
    """A value the schema guarantees here (a row just written, a dispatched parcel's time)."""
    assert value is not None
    return value
