from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from threading import Barrier

import psycopg
import pytest

from domain.catalog import Product
from domain.messages.inventory import StockLine
from domain.messages.resolution import Compensation
from domain.services import Service
from stores.database import (
    CONFLICT_RETRIED,
    IdempotencyConflictError,
    InvalidRequestError,
    StepOutOfOrderError,
    StoreLocation,
    is_postgres,
)
from stores.inventory import (
    InventoryClosedError,
    InventoryStore,
    OutOfStockError,
    ReservationState,
    Shortage,
    UnknownSkuError,
)
from tests.metrics import conflicts_counted
from tests.resolutions import by_hand
from tests.stores.conftest import SMALL_CATALOG, Locate


def lines(**quantities: int) -> list[StockLine]:
    return [StockLine(sku=sku.replace("_", "-"), quantity=q) for sku, q in quantities.items()]


def test_seeds_the_catalogue_once_and_never_resets_it(locate: Locate) -> None:
    where = locate(Service.INVENTORY)
    store = InventoryStore(where, catalog=[Product("AA-1", "W", 1, 10)])
    store.reserve("order-1", lines(AA_1=3))
    restocked = [Product("AA-1", "W", 1, 99), Product("DD-4", "New", 1, 4)]
    reopened = InventoryStore(where, catalog=restocked)
    level = reopened.stock("AA-1")
    assert (level.on_hand, level.reserved, level.available) == (10, 3, 7)
    assert reopened.stock("DD-4").on_hand == 4


def test_reserve_holds_every_line_and_a_repeat_changes_nothing(inventory: InventoryStore) -> None:
    first = inventory.reserve("order-1", lines(AA_1=2, BB_2=1))
    second = inventory.reserve("order-1", lines(AA_1=2, BB_2=1))
    assert first == second
    assert [(line.sku, line.quantity) for line in first.lines] == [("AA-1", 2), ("BB-2", 1)]
    assert inventory.stock("AA-1").reserved == 2
    assert inventory.stock("BB-2").reserved == 1
    assert {r.state for r in inventory.reservations("order-1")} == {ReservationState.HELD}


def test_a_repeat_with_other_lines_is_a_conflict(inventory: InventoryStore) -> None:
    inventory.reserve("order-1", lines(AA_1=2))
    with pytest.raises(IdempotencyConflictError, match="order-1"):
        inventory.reserve("order-1", lines(AA_1=3))
    assert inventory.stock("AA-1").reserved == 2


def test_out_of_stock_holds_nothing_and_says_what_is_short(inventory: InventoryStore) -> None:
    with pytest.raises(OutOfStockError) as raised:
        inventory.reserve("order-1", lines(AA_1=1, BB_2=6))
    assert raised.value.shortages == (Shortage("BB-2", requested=6, available=5),)
    assert "BB-2: 6 requested, 5 available" in str(raised.value)
    assert inventory.stock("AA-1").reserved == 0
    assert inventory.reservations("order-1") == []


def test_simulated_out_of_stock_reports_every_line(inventory: InventoryStore) -> None:
    with pytest.raises(OutOfStockError, match="simulated") as raised:
        inventory.reserve("order-1", lines(AA_1=1, BB_2=1), simulate_out_of_stock=True)
    assert [s.sku for s in raised.value.shortages] == ["AA-1", "BB-2"]
    assert inventory.stock("AA-1").reserved == 0


def test_unknown_sku_is_named(inventory: InventoryStore) -> None:
    with pytest.raises(UnknownSkuError, match="ZZ-9") as raised:
        inventory.reserve("order-1", lines(AA_1=1, ZZ_9=1))
    assert raised.value.skus == ("ZZ-9",)
    assert inventory.stock("AA-1").reserved == 0


def test_release_gives_the_units_back_once(inventory: InventoryStore) -> None:
    inventory.reserve("order-1", lines(AA_1=4, BB_2=1))
    first = inventory.release("order-1")
    second = inventory.release("order-1")
    assert first.released_units == second.released_units == 5
    assert inventory.stock("AA-1").reserved == 0
    assert inventory.stock("BB-2").reserved == 0


def test_release_of_nothing_releases_zero(inventory: InventoryStore) -> None:
    assert inventory.release("order-1").released_units == 0


def test_a_late_reserve_after_release_is_refused(inventory: InventoryStore) -> None:
    """The zombie: an attempt that timed out commits after its compensation ran."""
    inventory.reserve("order-1", lines(AA_1=1))
    inventory.release("order-1")
    with pytest.raises(InventoryClosedError, match="reserve refused"):
        inventory.reserve("order-1", lines(AA_1=1))
    assert inventory.stock("AA-1").reserved == 0


def test_release_before_any_reserve_closes_the_order(inventory: InventoryStore) -> None:
    inventory.release("order-1")
    with pytest.raises(InventoryClosedError):
        inventory.reserve("order-1", lines(AA_1=1))
    assert inventory.reservations("order-1") == []


def test_consume_takes_the_units_out_of_the_warehouse_once(inventory: InventoryStore) -> None:
    inventory.reserve("order-1", lines(AA_1=3))
    assert inventory.consume("order-1").consumed_units == 3
    assert inventory.consume("order-1").consumed_units == 3
    level = inventory.stock("AA-1")
    assert (level.on_hand, level.reserved) == (7, 0)
    assert inventory.reservations("order-1")[0].state is ReservationState.CONSUMED
    # A repeated reserve after dispatch returns the reservation, it does not hold new units.
    inventory.reserve("order-1", lines(AA_1=3))
    assert inventory.stock("AA-1").reserved == 0


def test_consume_needs_a_live_reservation(inventory: InventoryStore) -> None:
    with pytest.raises(StepOutOfOrderError):
        inventory.consume("order-1")
    inventory.reserve("order-2", lines(AA_1=1))
    inventory.release("order-2")
    with pytest.raises(InventoryClosedError):
        inventory.consume("order-2")
    assert inventory.stock("AA-1").on_hand == 10


@pytest.mark.parametrize(("per_order", "expected_successes"), [(1, 5), (2, 2)])
def test_concurrent_orders_never_oversell(
    inventory: InventoryStore, per_order: int, expected_successes: int
) -> None:
    """Twenty orders race for the last five gadgets, each from its own thread."""
    start = threading.Barrier(20)

    def attempt(n: int) -> bool:
        start.wait()
        try:
            inventory.reserve(f"order-{n}", lines(BB_2=per_order))
        except OutOfStockError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))

    assert outcomes.count(True) == expected_successes
    level = inventory.stock("BB-2")
    assert level.reserved == expected_successes * per_order
    assert level.available == 5 - expected_successes * per_order  # of the last five


PROCESSES = 4
ORDERS_PER_PROCESS = 5


def _reserve_from_a_process(
    where: StoreLocation, first_order: int, start: Barrier
) -> list[tuple[str, str]]:
    """In a process of its own, as a second worker of the service would be: reserve two of the
    last gadgets for each of its orders, and the first of them once more at once (a retried
    activity), reporting what each attempt came to."""
    store = InventoryStore(where, catalog=SMALL_CATALOG)
    start.wait()
    outcomes: list[tuple[str, str]] = []
    orders = [f"order-{n}" for n in range(first_order, first_order + ORDERS_PER_PROCESS)]
    for order_id in [orders[0], *orders]:
        try:
            store.reserve(order_id, lines(BB_2=2))
        except OutOfStockError:
            outcomes.append((order_id, "out of stock"))
        else:
            outcomes.append((order_id, "reserved"))
    return outcomes


def test_workers_in_several_processes_never_oversell_the_last_units(
    inventory: InventoryStore, locate: Locate
) -> None:
    """Four processes race for the last five gadgets, two per order: two orders get them, the
    rest are out of stock, and an order asked twice holds its units once."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        start = manager.Barrier(PROCESSES)
        runs = [
            pool.submit(
                _reserve_from_a_process,
                locate(Service.INVENTORY),
                n * ORDERS_PER_PROCESS,
                start,
            )
            for n in range(PROCESSES)
        ]
        outcomes = [outcome for run in runs for outcome in run.result(timeout=60)]

    reserved = {order_id for order_id, outcome in outcomes if outcome == "reserved"}
    assert len(reserved) == 2
    level = inventory.stock("BB-2")
    assert (level.reserved, level.available) == (4, 1)
    for order_id in reserved:
        assert sum(r.quantity for r in inventory.reservations(order_id)) == 2


def test_a_release_by_hand_is_recorded_once_and_leaves_the_stock(
    inventory: InventoryStore,
) -> None:
    inventory.reserve("order-1", lines(AA_1=3))
    inventory.record_resolved_by_hand(by_hand(Compensation.RELEASE_STOCK))
    inventory.record_resolved_by_hand(by_hand(Compensation.RELEASE_STOCK))
    assert inventory.resolutions("order-1") == [by_hand(Compensation.RELEASE_STOCK)]
    assert inventory.stock("AA-1").reserved == 3
    assert [r.state for r in inventory.reservations("order-1")] == [ReservationState.HELD]


def test_a_release_by_hand_with_another_note_is_a_conflict(inventory: InventoryStore) -> None:
    inventory.record_resolved_by_hand(by_hand(Compensation.RELEASE_STOCK))
    with pytest.raises(IdempotencyConflictError, match="release the stock was already resolved"):
        inventory.record_resolved_by_hand(
            by_hand(Compensation.RELEASE_STOCK, note="sold them instead")
        )
    assert inventory.resolutions("order-1") == [by_hand(Compensation.RELEASE_STOCK)]


def test_a_late_reserve_after_a_release_by_hand_is_refused(inventory: InventoryStore) -> None:
    """The saga could not release (inventory down past the budget) and a person said it was
    done: a reserve that commits only now must not hold stock for the given-up order."""
    inventory.record_resolved_by_hand(by_hand(Compensation.RELEASE_STOCK))
    with pytest.raises(InventoryClosedError, match="reserve refused"):
        inventory.reserve("order-1", lines(AA_1=1))
    assert inventory.stock("AA-1").reserved == 0


def test_another_services_compensation_is_not_recorded_here(inventory: InventoryStore) -> None:
    with pytest.raises(
        InvalidRequestError, match="void_payment is a compensation of payments, not of inventory"
    ):
        inventory.record_resolved_by_hand(by_hand(Compensation.VOID_PAYMENT))
    assert inventory.resolutions("order-1") == []
    inventory.reserve("order-1", lines(AA_1=1))  # not closed either


def _waiting_on_a_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as probe:
        row = probe.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def test_a_reserve_that_conflicts_with_another_workers_write_is_run_again(
    inventory: InventoryStore, locate: Locate, caplog: pytest.LogCaptureFixture
) -> None:
    """Another worker changes the gadgets' stock while this one reserves them: PostgreSQL refuses
    the reserve's transaction (it read what the other changed), and the store runs it again on
    the state the other left, counting the conflict."""
    url = str(locate(Service.INVENTORY))
    if not is_postgres(url):
        pytest.skip("a serialization conflict is PostgreSQL's: SQLite writers queue instead")
    before = conflicts_counted("InventoryStore.reserve")
    with psycopg.connect(url, options=f"-c search_path={Service.INVENTORY.value}") as other:
        other.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        other.execute("UPDATE stock SET on_hand = on_hand - 1 WHERE sku = 'BB-2'")
        with ThreadPoolExecutor(max_workers=1) as pool, caplog.at_level(logging.INFO):
            reserving = pool.submit(inventory.reserve, "order-1", lines(BB_2=4))
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock(url) and time.monotonic() < deadline:
                time.sleep(0.05)
            other.commit()  # the other worker's write lands first
            reserving.result(timeout=30)

    retried = [r.getMessage() for r in caplog.records if CONFLICT_RETRIED in r.getMessage()]
    assert retried == [f"{CONFLICT_RETRIED}: InventoryStore.reserve, attempt 1 of 30"]
    assert conflicts_counted("InventoryStore.reserve") == before + 1
    level = inventory.stock("BB-2")
    assert (level.on_hand, level.reserved, level.available) == (4, 4, 0)  # both writes kept
