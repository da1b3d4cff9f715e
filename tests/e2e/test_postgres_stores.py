"""Every style against service stores on PostgreSQL (`ORDERS_STORE_URL`): the workers keep each
service's state in its own schema of one database, nothing in SQLite files, and the audit reads
the same stores and finds them clean."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from starters.input_files import new_order_id
from starters.order_client import place_order, wait_for_outcome
from stores import STORE_URL_VARIABLE
from stores.audit import audit_stores
from stores.effects import effects_of
from tests.commands.processes import plain_env
from tests.conftest import namespace_client
from tests.postgres_cluster import PostgresServer, fresh_database
from tests.support import one_line_error, run_module
from workers.pool import running_workers

pytestmark = pytest.mark.e2e
NAMESPACE = "e2e-postgres"
PATIENCE = timedelta(seconds=60)
SCENARIOS = ("happy", "payment_declined")


def sqlite_files(data_dir: Path) -> list[Path]:
    return list(data_dir.glob("*.sqlite3*"))


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> Client:
    return await namespace_client(dev_env, NAMESPACE)


@pytest.fixture
def store_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fresh_database(postgres_server) as url:
        monkeypatch.setenv(STORE_URL_VARIABLE, url)
        yield url


async def test_every_style_runs_on_postgres_stores_and_the_audit_is_clean(
    client: Client, tmp_path: Path, store_url: str
) -> None:
    orders = [
        (style, SCENARIOS_BY_NAME[name].order(new_order_id(f"pg-{name.replace('_', '-')}")), name)
        for style in Style
        for name in SCENARIOS
    ]
    async with running_workers(client, list(Service), tmp_path):
        placed = [await place_order(client, order, style) for style, order, _ in orders]
        outcomes = await asyncio.gather(
            *(wait_for_outcome(client, one, PATIENCE) for one in placed)
        )
    report = audit_stores(tmp_path)

    assert [outcome.status for outcome in outcomes] == [
        SCENARIOS_BY_NAME[name].expected_status.value for _, _, name in orders
    ]
    assert report.clean, report.violations
    assert (report.orders_placed, report.orders_checked, report.missing_stores) == (6, 6, [])
    assert sqlite_files(tmp_path) == []  # every store is in PostgreSQL
    for (_, order, name), outcome in zip(orders, outcomes, strict=True):
        payment = effects_of(tmp_path, order.order_id).payment_state
        assert payment == ("captured" if name == "happy" else "declined"), (order, outcome)


PASSWORD = "s3cret-pw"


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [
        (f"mysql://orders:{PASSWORD}@db/orders", 2, "not a PostgreSQL URL (mysql)"),
        (f"postgresql://orders:{PASSWORD}@127.0.0.1:1/orders", 1, "is unreachable"),
    ],
    ids=["not-postgres", "unreachable"],
)
async def test_a_store_url_that_cannot_be_used_is_one_line_without_its_password(
    tmp_path: Path, url: str, code: int, said: str
) -> None:
    env = plain_env(ORDERS_DATA_DIR=str(tmp_path), **{STORE_URL_VARIABLE: url})
    result = await run_module(env, "starters.audit")

    line = one_line_error(result, code, STORE_URL_VARIABLE if code == 2 else "store at", said)
    assert PASSWORD not in result.stderr + result.stdout, line
    assert sqlite_files(tmp_path) == []  # nothing was opened elsewhere instead
