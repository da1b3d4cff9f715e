"""The stores the choreography tests read, in the test's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.services import Service
from stores import store_path
from stores.inventory import InventoryStore
from stores.payments import PaymentsStore


@pytest.fixture
def inventory(data_dir: Path) -> InventoryStore:
    return InventoryStore(store_path(data_dir, Service.INVENTORY))


@pytest.fixture
def payments(data_dir: Path) -> PaymentsStore:
    return PaymentsStore(store_path(data_dir, Service.PAYMENTS))
