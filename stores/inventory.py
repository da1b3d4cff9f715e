"""inventory: stock levels and the reservations that hold units for an order.

Availability is `on_hand - reserved`. A reservation holds units (`reserved` goes up), is either
released (the order was cancelled) or consumed at dispatch (the units leave the warehouse:
`on_hand` and `reserved` both go down). A release the saga could not do may be done by a person
instead, and recorded (`resolved_by_hand`): the store's stock is then left as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.catalog import CATALOG, Product
from domain.errors import BusinessError
from domain.messages.inventory import ConsumeResult, ReleaseResult, ReservationResult, StockLine
from domain.messages.resolution import RecordResolvedByHand
from domain.services import Service
from stores.database import (
    Clock,
    Connection,
    IdempotencyConflictError,
    ServiceStore,
    StepOutOfOrderError,
    StoreError,
    StoreLocation,
    from_optional_text,
    from_text,
    one_of,
    retried_on_conflict,
    utc_now,
)
from stores.resolutions import read_resolutions, record_resolution, resolutions_schema


class ReservationState(StrEnum):
    HELD = "held"
    RELEASED = "released"
    CONSUMED = "consumed"


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS stock (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved INTEGER NOT NULL CHECK (reserved >= 0),
    CHECK (reserved <= on_hand)
);
CREATE TABLE IF NOT EXISTS reservations (
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL REFERENCES stock (sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    state TEXT NOT NULL CHECK ({one_of("state", ReservationState)}),
    reserved_at TEXT NOT NULL,
    released_at TEXT,
    consumed_at TEXT,
    PRIMARY KEY (order_id, sku),
    CHECK ((state = 'released') = (released_at IS NOT NULL)),
    CHECK ((state = 'consumed') = (consumed_at IS NOT NULL))
);
-- Orders whose reservation was released (by the saga, or by hand): the tombstone that refuses
-- a late reserve.
CREATE TABLE IF NOT EXISTS closed_orders (
    order_id TEXT PRIMARY KEY,
    closed_at TEXT NOT NULL
);
{resolutions_schema(Service.INVENTORY)}"""


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


class OutOfStockError(StoreError):
    error_type = BusinessError.OUT_OF_STOCK.value

    def __init__(self, order_id: str, shortages: Sequence[Shortage], *, simulated: bool) -> None:
        self.order_id = order_id
        self.shortages = tuple(shortages)
        lines = "; ".join(
            f"{s.sku}: {s.requested} requested, {s.available} available" for s in self.shortages
        )
        cause = " (simulated by the order's faults)" if simulated else ""
        super().__init__(f"order {order_id}: out of stock{cause}: {lines}")


class UnknownSkuError(StoreError):
    error_type = BusinessError.UNKNOWN_SKU.value

    def __init__(self, order_id: str, skus: Sequence[str]) -> None:
        self.order_id = order_id
        self.skus = tuple(skus)
        super().__init__(
            f"order {order_id}: unknown sku {', '.join(self.skus)}: not in the catalogue"
        )


class InventoryClosedError(StoreError):
    """Tombstone: the order's reservation was released, so a late (zombie) step is refused."""

    # The closest existing type until domain.errors has one for a closed order.
    error_type = BusinessError.ORDER_CLOSED.value

    def __init__(self, order_id: str, step: str, closed_at: str) -> None:
        self.order_id = order_id
        super().__init__(
            f"order {order_id}: {step} refused: the order's reservation was released at "
            f"{closed_at} (by the saga or by hand); a late attempt must not hold stock again"
        )


@dataclass(frozen=True)
class StockLevel:
    sku: str
    name: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sku: str
    quantity: int
    state: ReservationState
    reserved_at: datetime
    released_at: datetime | None
    consumed_at: datetime | None


class InventoryStore(ServiceStore):
    SERVICE = Service.INVENTORY
    SCHEMA = _SCHEMA

    def __init__(
        self, location: StoreLocation, catalog: Sequence[Product] = CATALOG, clock: Clock = utc_now
    ) -> None:
        super().__init__(location, clock)
        self._seed(catalog)

    @retried_on_conflict
    def _seed(self, catalog: Sequence[Product]) -> None:
        with self._db.write() as db:
            # DO NOTHING: seeding a store that already exists never resets its stock.
            db.executemany(
                "INSERT INTO stock (sku, name, on_hand, reserved) VALUES (?, ?, ?, 0)"
                " ON CONFLICT DO NOTHING",
                [(p.sku, p.name, p.initial_stock) for p in catalog],
            )

    @retried_on_conflict
    def reserve(
        self, order_id: str, lines: Sequence[StockLine], simulate_out_of_stock: bool = False
    ) -> ReservationResult:
        """Hold every line, or none. A repeated call returns the reservation already held."""
        requested = _merge(lines)
        with self._db.write() as db:
            _refuse_if_closed(db, order_id, "reserve")
            held = _quantities(db, order_id)
            if held:
                if held != requested:
                    raise IdempotencyConflictError(
                        f"order {order_id}: already reserved {held}, now asked for {requested}"
                    )
                return _reservation_result(order_id, requested)
            levels = _stock_levels(db, requested)
            unknown = [sku for sku in requested if sku not in levels]
            if unknown:
                raise UnknownSkuError(order_id, unknown)
            shortages = [
                Shortage(sku, quantity, 0 if simulate_out_of_stock else levels[sku].available)
                for sku, quantity in requested.items()
                if simulate_out_of_stock or levels[sku].available < quantity
            ]
            if shortages:
                raise OutOfStockError(order_id, shortages, simulated=simulate_out_of_stock)
            now = self._now()
            for sku, quantity in requested.items():
                db.execute(
                    "UPDATE stock SET reserved = reserved + ? WHERE sku = ?", (quantity, sku)
                )
                db.execute(
                    "INSERT INTO reservations (order_id, sku, quantity, state, reserved_at)"
                    " VALUES (?, ?, ?, 'held', ?)",
                    (order_id, sku, quantity, now),
                )
        return _reservation_result(order_id, requested)

    @retried_on_conflict
    def release(self, order_id: str) -> ReleaseResult:
        """Give back the held units and close the order, so no late reserve can hold them again.

        A repeated call releases nothing more and reports the units the first one released.
        """
        now = self._now()
        with self._db.write() as db:
            db.execute(
                "INSERT INTO closed_orders (order_id, closed_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (order_id, now),
            )
            held = _quantities(db, order_id, ReservationState.HELD)
            released = _end_holds(db, order_id, held, ReservationState.RELEASED, now)
        return ReleaseResult(order_id=order_id, released_units=released)

    @retried_on_conflict
    def consume(self, order_id: str) -> ConsumeResult:
        """At dispatch the held units leave the warehouse. A repeated call consumes nothing more."""
        now = self._now()
        with self._db.write() as db:
            _refuse_if_closed(db, order_id, "consume")
            held = _quantities(db, order_id, ReservationState.HELD)
            if not held and not _quantities(db, order_id):
                raise StepOutOfOrderError(f"order {order_id}: nothing reserved, nothing to consume")
            consumed = _end_holds(db, order_id, held, ReservationState.CONSUMED, now)
        return ConsumeResult(order_id=order_id, consumed_units=consumed)

    @retried_on_conflict
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None:
        """A person put the stock back outside the system: record who and how, once. The stock
        and the reservation stay as they are (the audit reads the record to excuse the hold);
        the order is closed as a release closes it, so a late reserve cannot hold stock again."""
        with self._db.write() as db:
            record_resolution(db, Service.INVENTORY, request)
            db.execute(
                "INSERT INTO closed_orders (order_id, closed_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (request.order_id, self._now()),
            )

    def resolutions(self, order_id: str) -> list[RecordResolvedByHand]:
        with self._db.read() as db:
            return read_resolutions(db, order_id)

    def stock(self, sku: str) -> StockLevel:
        with self._db.read() as db:
            level = _stock_levels(db, [sku]).get(sku)
        if level is None:
            raise KeyError(f"unknown sku {sku}")
        return level

    def reservations(self, order_id: str) -> list[Reservation]:
        with self._db.read() as db:
            rows = db.execute(
                "SELECT * FROM reservations WHERE order_id = ? ORDER BY sku", (order_id,)
            ).fetchall()
        return [
            Reservation(
                order_id=row["order_id"],
                sku=row["sku"],
                quantity=row["quantity"],
                state=ReservationState(row["state"]),
                reserved_at=from_text(row["reserved_at"]),
                released_at=from_optional_text(row["released_at"]),
                consumed_at=from_optional_text(row["consumed_at"]),
            )
            for row in rows
        ]


def _merge(lines: Sequence[StockLine]) -> dict[str, int]:
    """Quantities by sku (two lines for one sku add up)."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    return merged


def _reservation_result(order_id: str, quantities: dict[str, int]) -> ReservationResult:
    lines = [StockLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items()]
    return ReservationResult(order_id=order_id, lines=lines)


def _refuse_if_closed(db: Connection, order_id: str, step: str) -> None:
    row = db.execute(
        "SELECT closed_at FROM closed_orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    if row is not None:
        raise InventoryClosedError(order_id, step, row["closed_at"])


def _end_holds(
    db: Connection,
    order_id: str,
    held: dict[str, int],
    state: ReservationState,
    now: str,
) -> int:
    """Move the order's `held` units to `state`: released back to stock, or consumed (they leave
    `on_hand` too). Returns the order's units in `state`, earlier calls' included."""
    leaving = state is ReservationState.CONSUMED
    for sku, quantity in held.items():
        db.execute(
            "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ? WHERE sku = ?",
            (quantity if leaving else 0, quantity, sku),
        )
    db.execute(
        f"UPDATE reservations SET state = ?, {state.value}_at = ?"
        " WHERE order_id = ? AND state = 'held'",
        (state, now, order_id),
    )
    return sum(_quantities(db, order_id, state).values())


def _quantities(
    db: Connection, order_id: str, state: ReservationState | None = None
) -> dict[str, int]:
    """The order's quantities by sku in `state`; by default the units it holds or took (held or
    consumed), which is what a repeated reserve must match."""
    states = [state] if state else [ReservationState.HELD, ReservationState.CONSUMED]
    marks = ", ".join("?" for _ in states)
    rows = db.execute(
        f"SELECT sku, quantity FROM reservations WHERE order_id = ? AND state IN ({marks})"
        " ORDER BY sku",
        (order_id, *states),
    ).fetchall()
    return {row["sku"]: row["quantity"] for row in rows}


def _stock_levels(db: Connection, skus: Collection[str]) -> dict[str, StockLevel]:
    marks = ", ".join("?" for _ in skus)
    rows = db.execute(f"SELECT * FROM stock WHERE sku IN ({marks})", tuple(skus)).fetchall()
    return {
        row["sku"]: StockLevel(row["sku"], row["name"], row["on_hand"], row["reserved"])
        for row in rows
    }
