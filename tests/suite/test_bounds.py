"""The suite bounds itself: a stuck order fails the wait that expected it to end, naming where
it stands, and a test that hangs on a workflow anyway is cancelled by the suite's timeout, the
tests after it still running, instead of hanging `make test`."""

from __future__ import annotations

import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from client.orders import place_order
from domain.services import Service, Style
from infra.cli import RefusedError
from tests.conftest import namespace_client
from tests.support import PROJECT_ROOT, make_order, outcome_of, run_module, user_env
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "suite"


async def test_an_order_stuck_at_a_step_fails_its_wait_naming_where_it_stands(
    dev_env: WorkflowEnvironment, data_dir: Path
) -> None:
    """No inventory worker: the order waits at its reservation (for 15 minutes, the step's
    budget); the test's wait gives up long before and says so."""
    client = await namespace_client(dev_env, NAMESPACE)
    order = make_order()
    async with running_workers(client, [Service.ORDERS, Service.NOTIFICATIONS], data_dir):
        placed = await place_order(client, order, Style.ORCHESTRATED)
        try:
            with pytest.raises(RefusedError) as stuck:
                await outcome_of(client, placed, within=timedelta(seconds=3))
        finally:
            await client.get_workflow_handle(placed.workflow_id).terminate("test over")

    assert str(stuck.value) == (
        f"order {order.order_id} has not ended within 0:00:03: it is placed"
    )


HUNG = """
import asyncio
import os

import pytest
from temporalio.client import Client

pytestmark = pytest.mark.e2e  # so it keeps the suite's default timeout (8 s here)


async def test_waits_for_a_workflow_nobody_runs() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"], namespace="suite")
    handle = await client.start_workflow(
        "NobodyRunsThis", id=os.environ["HUNG_ID"], task_queue="nobody-polls-this"
    )
    await handle.result()


async def test_the_next_test_still_runs() -> None:
    await asyncio.sleep(0)
"""


async def test_a_test_that_hangs_on_a_workflow_is_cancelled_by_the_suites_timeout(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The project's own pytest settings (pyproject.toml) and hooks (tests/conftest.py), with
    the timeout shortened to 8 s: the test is cancelled where it waited, at 80 % of it, which
    leaves 1.6 s to report the failure before pytest-timeout's own alarm (at 3 s, the report of
    a loaded machine was cut short by it)."""
    (tmp_path / "test_hung.py").write_text(textwrap.dedent(HUNG))
    address = dev_env.client.service_client.config.target_host
    hung_id = f"hung-{uuid.uuid4().hex[:8]}"
    env = {**user_env(address, NAMESPACE, tmp_path), "HUNG_ID": hung_id}

    result = await run_module(
        env,
        "pytest",
        *("-c", str(PROJECT_ROOT / "pyproject.toml"), "--rootdir", str(tmp_path)),
        *("-p", "tests.conftest"),
        *("-o", "timeout=8", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_hung.py")),
        within_seconds=60,
    )

    assert result.code == 1, result.stdout + result.stderr
    assert "Failed: cancelled after 6.4 s: the test was stuck where it waited" in result.stdout
    assert "    await handle.result()" in result.stdout, "the failure shows where it waited"
    assert "1 failed, 1 passed" in result.stdout, result.stdout
    client = await namespace_client(dev_env, NAMESPACE)
    await client.get_workflow_handle(hung_id).terminate("the hung test is over")
