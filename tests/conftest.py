"""Real Temporal servers for the tests, from the wheels: the time-skipping test server for
workflows (a fresh one per test, started in a tenth of a second, so that no test's workflows
wake up in another test's skipped time), the dev server for end-to-end runs (one per session)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.testing import WorkflowEnvironment

from domain.services import Service
from infra.dev_server import start_dev_server
from infra.search_attributes import ensure_search_attributes
from infra.server_start import start_time_skipping_server
from infra.token_seal import PRIVATE_KEY_VARIABLE, new_private_key
from tests.postgres_cluster import PostgresServer, throwaway_server, unavailable_reason
from tests.service_stores import ServiceStores
from workers.pool import running_workers


class _WithoutHeartbeatCapabilityWarning(logging.Filter):
    """The time-skipping server does not advertise `activity_failure_include_heartbeat`, so the
    SDK warns once per worker it starts against it: hundreds of identical lines per run, which
    say nothing about the test and drown what does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "activity_failure_include_heartbeat" not in record.getMessage()


def _suite_runtime() -> Runtime:
    """The default runtime of every client the tests connect: the SDK core's own log lines go
    through Python logging (so pytest shows them with a failing test) instead of straight to
    the terminal, less the one warning above."""
    core = logging.getLogger("temporalio.core")
    core.addFilter(_WithoutHeartbeatCapabilityWarning())
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=core),
    )
    return Runtime(telemetry=TelemetryConfig(logging=logging_config))


Runtime.set_default(_suite_runtime(), error_if_already_set=False)

os.environ.setdefault(PRIVATE_KEY_VARIABLE, new_private_key())
"""One payments key for the session, as a deployment has one: tests place orders in this process
and run workers on data directories of their own, and each data directory would otherwise make
its own development key (the demo's test drops it and runs on its data directory's)."""

SCALED_OUT_NAMESPACE = "e2e-replicas"
"""The end-to-end scenarios with two worker processes per service (tests/e2e/test_scenarios)."""
TEST_NAMESPACES = (
    "e2e",
    SCALED_OUT_NAMESPACE,
    "e2e-lists",
    "cli",
    "cli-choreographed",
    "cli-audit",
    "suite",
    "replay",
    "trace",
    "compare",
    "codec",
    "cli-placement",
    "upgrade-check",
    "workers-slots",
    "cli-resolve",
    "e2e-orphan",
    "fuzz",
    "deployment",
)


QUICK_TIMEOUT_SECONDS = 20
"""A test that talks to no Temporal server (a store, the contract, a parser): seconds at most."""
TIME_SKIPPING_TIMEOUT_SECONDS = 60
"""A test on the time-skipping server: days of workflow time pass in a second or two."""


CANCEL_AT = 0.8
"""An async test is cancelled at this share of its timeout, where it waits: its `async with`
blocks unwind (workers stop, servers shut down) and the failure shows the await it was stuck
on. pytest-timeout's own, at the full timeout, stays the backstop for a test that ignores the
cancellation; alone, it interrupts the event loop and can leave the teardown hanging."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets the bound its kind deserves unless it says otherwise: end-to-end tests on
    the dev server keep the suite's default (pyproject.toml), the others a tighter one, so a
    quick test that hangs fails quickly. An async test is also cancelled a little before."""
    for item in items:
        marker = item.get_closest_marker("timeout")
        if marker is None and not item.get_closest_marker("e2e"):
            fixtures = set(getattr(item, "fixturenames", ()))
            if "dev_env" not in fixtures:
                quick = "time_skipping_env" not in fixtures
                seconds = QUICK_TIMEOUT_SECONDS if quick else TIME_SKIPPING_TIMEOUT_SECONDS
                item.add_marker(pytest.mark.timeout(seconds))
                marker = item.get_closest_marker("timeout")
        limit = float(marker.args[0]) if marker else float(item.config.getini("timeout"))
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = _cancelled_after(item.obj, limit * CANCEL_AT)


def _cancelled_after(
    test: Callable[..., Awaitable[object]], seconds: float
) -> Callable[..., Awaitable[object]]:
    @functools.wraps(test)
    async def bounded(*args: object, **kwargs: object) -> object:
        try:
            async with asyncio.timeout(seconds) as deadline:
                return await test(*args, **kwargs)
        except TimeoutError:
            if not deadline.expired():
                raise  # the test's own
            pytest.fail(f"cancelled after {seconds:g} s: the test was stuck where it waited")

    return bounded


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping_server()
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
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for this test process (`tests.postgres_cluster`), started
    when a test first asks for it; skipped, saying why, where none can be had."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with throwaway_server() as server:
        yield server


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


@pytest.fixture
def stores(data_dir: Path) -> ServiceStores:
    """Every service's store in the test's data directory, as its workers keep them."""
    return ServiceStores(data_dir)
