"""Fixtures for the store tests: a clock the test moves (`clock` reads it, `advance` moves it),
and stores in a temporary folder that use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.catalog import Product
from stores.database import Clock
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from stores.shipping import ShippingStore

SMALL_CATALOG = (
    Product("AA-1", "Widget", 1_000, 10),
    Product("BB-2", "Gadget", 2_500, 5),
    Product("CC-3", "Sold out", 900, 0),
)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clock(fake_clock: FakeClock) -> Clock:
    return fake_clock


@pytest.fixture
def advance(fake_clock: FakeClock) -> Callable[[timedelta], None]:
    return fake_clock.advance


@pytest.fixture
def inventory(tmp_path: Path, clock: Clock) -> InventoryStore:
    return InventoryStore(tmp_path / "inventory.sqlite3", catalog=SMALL_CATALOG, clock=clock)


@pytest.fixture
def payments(tmp_path: Path, clock: Clock) -> PaymentsStore:
    return PaymentsStore(tmp_path / "payments.sqlite3", clock=clock)


@pytest.fixture
def shipping(tmp_path: Path, clock: Clock) -> ShippingStore:
    return ShippingStore(tmp_path / "shipping.sqlite3", clock=clock)


@pytest.fixture
def notifications(tmp_path: Path, clock: Clock) -> NotificationsStore:
    return NotificationsStore(tmp_path / "notifications.sqlite3", clock=clock)


@pytest.fixture
def orders(tmp_path: Path, clock: Clock) -> OrdersStore:
    return OrdersStore(tmp_path / "orders.sqlite3", clock=clock)
