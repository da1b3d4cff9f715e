"""The inventory activities as a workflow sees them: results, and failures typed by cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from domain.catalog import Product
from domain.errors import BusinessError, ContractError
from domain.messages.common import OrderRef
from domain.messages.inventory import ReserveStock, StockLine
from domain.messages.resolution import Compensation
from stores.inventory import InventoryStore
from tests.resolutions import by_hand


@pytest.fixture
def store(tmp_path: Path) -> InventoryStore:
    return InventoryStore(tmp_path / "inventory.sqlite3", catalog=[Product("AA-1", "W", 100, 4)])


@pytest.fixture
def inventory(store: InventoryStore) -> InventoryActivities:
    return InventoryActivities(store)


def reserve(quantity: int, sku: str = "AA-1", **faults: bool) -> ReserveStock:
    return ReserveStock(order_id="order-1", lines=[StockLine(sku=sku, quantity=quantity)], **faults)


def test_reserve_twice_holds_once(inventory: InventoryActivities, store: InventoryStore) -> None:
    env = ActivityEnvironment()
    first = env.run(inventory.reserve_stock, reserve(3))
    assert env.run(inventory.reserve_stock, reserve(3)) == first
    assert store.stock("AA-1").reserved == 3


def test_out_of_stock_is_a_business_failure_that_names_the_sku(
    inventory: InventoryActivities,
) -> None:
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(inventory.reserve_stock, reserve(5))
    assert raised.value.type == BusinessError.OUT_OF_STOCK
    assert raised.value.non_retryable
    assert "AA-1: 5 requested, 4 available" in raised.value.message


def test_unknown_sku_is_its_own_failure(inventory: InventoryActivities) -> None:
    with pytest.raises(ApplicationError, match="ZZ-9") as raised:
        ActivityEnvironment().run(inventory.reserve_stock, reserve(1, sku="ZZ-9"))
    assert raised.value.type == BusinessError.UNKNOWN_SKU
    assert raised.value.non_retryable


def test_release_then_a_zombie_reserve_is_refused_for_good(
    inventory: InventoryActivities, store: InventoryStore
) -> None:
    env = ActivityEnvironment()
    env.run(inventory.reserve_stock, reserve(2))
    released = env.run(inventory.release_stock, OrderRef(order_id="order-1"))
    assert released.released_units == 2
    with pytest.raises(ApplicationError, match="reserve refused") as raised:
        env.run(inventory.reserve_stock, reserve(2))
    assert raised.value.non_retryable
    assert store.stock("AA-1").reserved == 0


def test_consume_at_dispatch(inventory: InventoryActivities, store: InventoryStore) -> None:
    env = ActivityEnvironment()
    env.run(inventory.reserve_stock, reserve(2))
    result = env.run(inventory.consume_stock, OrderRef(order_id="order-1"))
    assert result.consumed_units == 2
    assert store.stock("AA-1").on_hand == 2


def test_a_release_by_hand_is_recorded_once_and_moves_no_stock(
    inventory: InventoryActivities, store: InventoryStore
) -> None:
    env = ActivityEnvironment()
    env.run(inventory.reserve_stock, reserve(2))
    env.run(inventory.record_resolved_by_hand, by_hand(Compensation.RELEASE_STOCK))
    env.run(inventory.record_resolved_by_hand, by_hand(Compensation.RELEASE_STOCK))
    with pytest.raises(ApplicationError) as raised:
        env.run(inventory.record_resolved_by_hand, by_hand(Compensation.RELEASE_STOCK, "other"))
    assert raised.value.type == ContractError.IDEMPOTENCY_CONFLICT
    assert raised.value.non_retryable
    assert store.resolutions("order-1") == [by_hand(Compensation.RELEASE_STOCK)]
    assert store.stock("AA-1").reserved == 2


def test_a_void_by_hand_is_not_inventorys_business(inventory: InventoryActivities) -> None:
    with pytest.raises(ApplicationError, match="not of inventory") as raised:
        ActivityEnvironment().run(
            inventory.record_resolved_by_hand, by_hand(Compensation.VOID_PAYMENT)
        )
    assert raised.value.type == ContractError.INVALID_REQUEST
    assert raised.value.non_retryable
