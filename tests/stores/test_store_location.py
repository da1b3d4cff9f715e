"""Where each service keeps its state: one setting for all, one per service, or SQLite files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from domain.services import Service
from stores import (
    STORE_URL_VARIABLE,
    StoreSettingsError,
    store_location,
    store_path,
    store_url_variable,
)

SHARED = "postgresql://orders@db.internal:5432/orders"
PAYMENTS_OWN = "postgresql://payments@ledger.internal:5432/payments"


def test_unset_every_service_keeps_its_sqlite_file(tmp_path: Path) -> None:
    assert [store_location(tmp_path, s, {}) for s in Service] == [
        store_path(tmp_path, s) for s in Service
    ]


def test_one_url_serves_every_service_and_one_service_may_have_its_own(tmp_path: Path) -> None:
    environ = {STORE_URL_VARIABLE: SHARED, store_url_variable(Service.PAYMENTS): PAYMENTS_OWN}

    where = {s: store_location(tmp_path, s, environ) for s in Service}

    assert where.pop(Service.PAYMENTS) == PAYMENTS_OWN
    assert set(where.values()) == {SHARED}


def test_a_blank_setting_is_unset(tmp_path: Path) -> None:
    environ = {STORE_URL_VARIABLE: "  ", store_url_variable(Service.ORDERS): ""}

    assert store_location(tmp_path, Service.ORDERS, environ) == store_path(tmp_path, Service.ORDERS)


@pytest.mark.parametrize("url", ["sqlite:///orders.db", "db.internal/orders", "http://x/y"])
def test_a_url_that_is_not_postgres_says_which_setting_and_never_its_password(
    tmp_path: Path, url: str
) -> None:
    variable = store_url_variable(Service.SHIPPING)
    with pytest.raises(StoreSettingsError, match=f"^{variable}: not a PostgreSQL URL") as raised:
        store_location(tmp_path, Service.SHIPPING, {variable: url.replace("//", "//u:pw@")})
    assert "pw" not in str(raised.value)


def test_sqlite_stores_and_their_audit_load_neither_psycopg_nor_the_metrics_libraries() -> None:
    """A command on SQLite stores (the audit, the demo's effects) starts without PostgreSQL's
    driver or OpenTelemetry's metrics: each is imported where it is used."""
    probe = (
        "import sys, stores.audit, stores.effects, stores.inventory; "
        "print(sorted(m for m in ('psycopg', 'opentelemetry.sdk.metrics') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip() == "[]"
