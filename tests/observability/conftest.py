"""One observed run for the package: every scenario in every style on the dev server's `default`
namespace, with the workers in this process, the metrics endpoint up and every log record
captured through `infra.logs` (JSON, down to DEBUG, so the token check sees what an operator
who turns the level up would see).

The run is shared: the metrics and the logs tests look at the same orders, and a full run takes
most of a module's time budget.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.scenarios import SCENARIOS
from domain.services import Service
from infra import logs
from infra.metrics import business_exposition, start_metrics_endpoint
from starters.order_client import PLACEABLE_STYLES
from starters.scenario_runs import ScenarioRun, run_scenarios
from tests.conftest import namespace_client
from tests.support import PATIENCE
from workers.pool import running_workers

NAMESPACE = "default"


@dataclass(frozen=True)
class ObservedRun:
    client: Client
    data_dir: Path
    runs: list[ScenarioRun]
    business_before: str
    """The business counters before the run: they are per process, so the tests read deltas."""
    scrape_during: str
    """GET /metrics while orders were still running."""
    scrape_after: str
    log_lines: list[str]
    """What the configured handler wrote, one JSON object per line."""
    records: list[logging.LogRecord]
    """The same records, unformatted (before masking)."""

    @property
    def order_ids(self) -> set[str]:
        return {run.placed.order_id for run in self.runs}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        assert response.status == 200
        return body.decode()


async def wait_until_quiet(client: Client, within: float = 30.0) -> None:
    """Participants may still be finishing after the orders ended: wait for every workflow of
    the namespace to close, so that the counters are final and the next module starts clean."""
    deadline = time.monotonic() + within
    while (await client.count_workflows('ExecutionStatus = "Running"')).count:
        assert time.monotonic() < deadline, "workflows still running after the run"
        await asyncio.sleep(0.2)


@pytest.fixture(scope="package")
async def observed_run(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> ObservedRun:
    client = await namespace_client(dev_env, NAMESPACE)
    await wait_until_quiet(client)
    data_dir = tmp_path_factory.mktemp("observed-data")
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logs.configure(level=logging.DEBUG, fmt="json", stream=stream)
    keep = _Keep()
    root.addHandler(keep)
    endpoint = start_metrics_endpoint(0, host="127.0.0.1")
    before = business_exposition().decode()
    during: list[str] = []

    async def scrape_once(_: ScenarioRun) -> None:
        if not during:
            during.append("")  # claim it: one scrape is enough
            during[0] = await asyncio.to_thread(scrape, endpoint.url)

    pending: list[asyncio.Task[None]] = []
    try:
        async with running_workers(
            client, list(Service), data_dir, metrics_port=endpoint.port
        ) as workers:
            worker_client = workers[0].client
            runs = await run_scenarios(
                client,
                SCENARIOS,
                PLACEABLE_STYLES,
                on_done=lambda run: pending.append(asyncio.create_task(scrape_once(run))),
                patience=PATIENCE,
            )
            await asyncio.gather(*pending)
            await wait_until_quiet(client)
            after = await asyncio.to_thread(scrape, endpoint.url)
            assert worker_client.service_client.config.runtime is endpoint.runtime
    finally:
        endpoint.close()
        logs.remove(handler)
        root.removeHandler(keep)
        root.setLevel(level)
    return ObservedRun(
        client=client,
        data_dir=data_dir,
        runs=runs,
        business_before=before,
        scrape_during=during[0],
        scrape_after=after,
        log_lines=stream.getvalue().splitlines(),
        records=keep.records,
    )
