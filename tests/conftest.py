"""Real Temporal servers for the tests, from the wheels: the time-skipping test server for
workflows (a fresh one per test, started in a tenth of a second, so that no test's workflows
wake up in another test's skipped time), the dev server for end-to-end runs (one per session)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.services import Service
from infra.binaries import temporal_test_server
from infra.dev_server import start_dev_server
from infra.search_attributes import ensure_search_attributes
from workers.pool import running_workers

TEST_NAMESPACES = (
    "e2e",
    "e2e-lists",
    "cli",
    "cli-choreographed",
    "replay",
    "trace",
    "compare",
    "codec",
)


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(temporal_test_server()),
    )
    await ensure_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def client(time_skipping_env: WorkflowEnvironment, data_dir: Path) -> AsyncIterator[Client]:
    """The time-skipping server with every service's worker; the test plays the carrier."""
    async with running_workers(
        time_skipping_env.client, list(Service), data_dir, simulate_carrier=False
    ):
        yield time_skipping_env.client


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server(
        port=None, ui_port=None, ui=False, extra_namespaces=TEST_NAMESPACES
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def namespace_client(env: WorkflowEnvironment, namespace: str) -> Client:
    """A client of the dev server in one of TEST_NAMESPACES.

    Each end-to-end test module works in a namespace of its own, so that the workers of one
    module never pick up a task of an order another module left running.
    """
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=namespace,
        data_converter=pydantic_data_converter,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
