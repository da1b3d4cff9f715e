"""Fixtures for the store tests: a clock the test moves (`clock` reads it, `advance` moves it),
and stores that use it, on each backend: SQLite files in a temporary folder, and a fresh
database on a throwaway PostgreSQL server (`tests.postgres_cluster`; skipped, saying why, where
none can be had)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.catalog import Product
from domain.services import Service
from stores import store_path
from stores.database import Clock, StoreLocation
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from stores.shipping import ShippingStore
from tests.postgres_cluster import (
    PostgresServer,
    fresh_database,
)

Locate = Callable[[Service], StoreLocation]
BACKENDS = ("sqlite", "postgresql")

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


@pytest.fixture(params=BACKENDS)
def locate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Locate]:
    """Where each service's store is, on the backend of this run of the test."""
    if request.param == "sqlite":
        yield lambda service: store_path(tmp_path, service)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with fresh_database(server) as url:
        yield lambda service: url


@pytest.fixture
def inventory(locate: Locate, clock: Clock) -> InventoryStore:
    return InventoryStore(locate(Service.INVENTORY), catalog=SMALL_CATALOG, clock=clock)


@pytest.fixture
def payments(locate: Locate, clock: Clock) -> PaymentsStore:
    return PaymentsStore(locate(Service.PAYMENTS), clock=clock)


@pytest.fixture
def shipping(locate: Locate, clock: Clock) -> ShippingStore:
    return ShippingStore(locate(Service.SHIPPING), clock=clock)


@pytest.fixture
def notifications(locate: Locate, clock: Clock) -> NotificationsStore:
    return NotificationsStore(locate(Service.NOTIFICATIONS), clock=clock)


@pytest.fixture
def orders(locate: Locate, clock: Clock) -> OrdersStore:
    return OrdersStore(locate(Service.ORDERS), clock=clock)
