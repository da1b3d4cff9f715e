"""The load `benchmarks.throughput` puts on a server: the embedded dev server and the project's
client for it, the happy order with nothing to wait for (of a style, or of the baseline saga),
and orders run and timed one at a time or several at once, then counted from their histories.

Its own module so that the measured phases and the soak drive orders the same way, and what
they report is all that differs between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from benchmarks.baseline_saga import SLOTS, baseline_worker, run_baseline_order
from client.input_files import new_order_id
from client.orders import place_order, wait_for_outcome
from domain.faults import CarrierBehaviour, Faults
from domain.scenarios import SCENARIOS_BY_NAME, Scenario
from domain.services import Style
from infra.codec import data_converter
from infra.data_dir import DATA_DIR_VARIABLE
from infra.dev_server import start_dev_server, stdout_to_stderr
from infra.telemetry import tracing_interceptors
from insight.billing import actions_of
from insight.comparison import settled_histories
from insight.history_stats import total_stats

BASELINE = "baseline"
"""The baseline saga's name as a subject."""
WARM_UP = 3
"""Orders per subject and server left out of the figures: the first ones also pay for
connections, caches and the first writes to each store."""
PATIENCE = timedelta(minutes=2)
"""How long one order may take before it is reported as not completed."""
COUNTING_LANES = 10
"""Orders whose histories are read at once, after a phase (each waits for its order to settle)."""

RunOrder = Callable[[str], Awaitable[str]]
"""Runs one order under the given id; returns its outcome (`completed`, `cancelled`...)."""
CountOrder = Callable[[str], Awaitable["Counts"]]
"""Reads one finished order's histories, once every workflow of it has closed."""


@dataclass(frozen=True)
class Sample:
    order_id: str
    seconds: float
    outcome: str
    """The order's status, or what went wrong (`error: ...`) when there was none."""

    @property
    def completed(self) -> bool:
        return self.outcome == "completed"


@dataclass(frozen=True)
class Counts:
    events: int
    actions: int
    settled: bool


@dataclass(frozen=True)
class Subject:
    """What is measured: the baseline or a style, how to run one order and how to count it."""

    name: str
    run: RunOrder
    count: CountOrder


# -- the orders -------------------------------------------------------------------------------


def quick_happy() -> Scenario:
    """The happy scenario with nothing to wait for: what is left is the process itself."""
    happy = SCENARIOS_BY_NAME["happy"]
    return dataclasses.replace(
        happy,
        timeouts=happy.timeouts.model_copy(update={"handling_time": timedelta(0)}),
        faults=Faults(
            carrier=CarrierBehaviour(pickup_after=timedelta(0), deliver_after=timedelta(0))
        ),
    )


def style_subject(client: Client, style: Style) -> Subject:
    scenario = quick_happy()

    async def run(order_id: str) -> str:
        placed = await place_order(client, scenario.order(order_id), style)
        return (await wait_for_outcome(client, placed, PATIENCE)).status

    async def count(order_id: str) -> Counts:
        histories, settled = await settled_histories(client, order_id)
        workflow_histories = [entry.history for entry in histories]
        stats = total_stats(workflow_histories)
        return Counts(stats.events, actions_of(workflow_histories).total(), settled)

    return Subject(style.value, run, count)


def baseline_subject(client: Client) -> Subject:
    async def run(order_id: str) -> str:
        async with asyncio.timeout(PATIENCE.total_seconds()):
            return await run_baseline_order(client, order_id)

    async def count(order_id: str) -> Counts:
        history = await client.get_workflow_handle(f"baseline-{order_id}").fetch_history()
        return Counts(total_stats([history]).events, actions_of([history]).total(), True)

    return Subject(BASELINE, run, count)


async def timed(run: RunOrder, order_id: str) -> Sample:
    started = time.perf_counter()
    try:
        outcome = await run(order_id)
    except Exception as error:  # any failure is one order not completed, named in the report
        outcome = f"error: {type(error).__name__}: {error}"
    return Sample(order_id, time.perf_counter() - started, outcome)


async def run_orders(
    run: RunOrder, count: int, concurrency: int, on_done: Callable[[int], None] | None = None
) -> list[Sample]:
    """`count` fresh orders, `concurrency` in flight at once, in the order they ended.
    `on_done(n)` is told each time the n-th order ends."""
    ids = iter([new_order_id("bench") for _ in range(count)])
    samples: list[Sample] = []

    async def lane() -> None:
        for order_id in ids:  # the lanes share the iterator: each takes the next id
            samples.append(await timed(run, order_id))
            if on_done is not None:
                on_done(len(samples))

    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))
    return samples


async def count_all(subject: Subject, samples: Sequence[Sample]) -> list[Counts]:
    lanes = asyncio.Semaphore(COUNTING_LANES)

    async def one(sample: Sample) -> Counts:
        async with lanes:
            return await subject.count(sample.order_id)

    return list(await asyncio.gather(*(one(sample) for sample in samples)))


# -- servers and workers ----------------------------------------------------------------------


@contextlib.contextmanager
def scratch_data_dir() -> Iterator[Path]:
    """A fresh data directory for the stores, the servers' histories and the development
    payments key, named by ORDERS_DATA_DIR while the benchmark runs, so that placing an order
    here seals its token for the key the payments worker here holds."""
    previous = os.environ.get(DATA_DIR_VARIABLE)
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        os.environ[DATA_DIR_VARIABLE] = tmp
        try:
            yield Path(tmp)
        finally:
            if previous is None:
                os.environ.pop(DATA_DIR_VARIABLE, None)
            else:
                os.environ[DATA_DIR_VARIABLE] = previous


@contextlib.asynccontextmanager
async def dev_server(
    in_memory: bool, data_dir: Path, tuned: bool
) -> AsyncIterator[WorkflowEnvironment]:
    """The embedded dev server, its history in a file in `data_dir` unless `in_memory`."""
    name = f"temporal-{'tuned' if tuned else 'defaults'}.sqlite3"
    with stdout_to_stderr():  # its banner: stdout stays the report or the JSON
        server = await start_dev_server(
            port=None,
            ui=False,
            ui_port=None,
            db_file=None if in_memory else data_dir / name,
            tuned=tuned,
        )
    try:
        yield server
    finally:
        await server.shutdown()


def port_of(client: Client) -> int:
    return int(client.service_client.config.target_host.rsplit(":", 1)[1])


async def project_client(server: WorkflowEnvironment) -> Client:
    """A client as `infra.client.connect` makes one (the project's data converter and tracing
    interceptors, which the workers built from it inherit), for the server started here."""
    return await Client.connect(
        server.client.service_client.config.target_host,
        data_converter=data_converter(),
        interceptors=tracing_interceptors(),
    )


@contextlib.asynccontextmanager
async def baseline_running(client: Client, data_dir: Path) -> AsyncIterator[None]:
    with ThreadPoolExecutor(SLOTS, thread_name_prefix="baseline-activity") as executor:
        async with baseline_worker(client, data_dir, executor):
            yield


def status(line: str) -> None:
    """Progress, on stderr: stdout stays the report or the JSON."""
    print(line, file=sys.stderr, flush=True)
