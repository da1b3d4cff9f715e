"""One chaos run over a cluster of its own: a dev server and every service's workers as
processes, the orders placed by the plan while workers are killed and the server restarted, the
wait for every order to settle, the invariants judged, and the report."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from chaos.conflicts import conflicts_in_logs
from chaos.disturb import Hands
from chaos.figures import figures_by_style
from chaos.orders import Placement, run_order
from chaos.outages import kill_workers, restart_server_once
from chaos.plan import build_plan
from chaos.processes import (
    BINARY_VARIABLES,
    Cluster,
    child_env,
    logs_dir,
    running_cluster,
)
from chaos.progress import Reporter
from chaos.report import RunReport
from chaos.resilience import outlasting
from chaos.settings import Settings
from chaos.tally import Tally
from chaos.tasks import cancelled, together
from chaos.tracker import Tracker
from chaos.verdict import Evidence, judge
from infra.client import connect
from infra.data_dir import DATA_DIR_VARIABLE

SHOW_EVERY = 0.5
"""Seconds between two refreshes of the progress."""


def _quiet_runtime() -> Runtime:
    """The run's own client, on a runtime that logs errors only: the SDK warns of every call it
    retries, and while the run's dev server restarts that is expected, not news (and it would
    scroll the progress away)."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


def _point_this_process_at(address: str, data_dir: Path) -> None:
    """This process's connection settings and data dir are the run's, as its workers' are: the
    order client, the audit and the stores read them from the environment."""
    for key in [key for key in os.environ if key.startswith("TEMPORAL_")]:
        if key not in BINARY_VARIABLES:
            del os.environ[key]
    env = child_env(address, data_dir)
    for key in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_CONFIG_FILE"):
        os.environ[key] = env[key]
    os.environ[DATA_DIR_VARIABLE] = str(data_dir)


class Run:
    """One chaos run over a cluster that is up: the orders, the outages, the settling."""

    def __init__(
        self, settings: Settings, cluster: Cluster, client: Client, data_dir: Path, out: Reporter
    ) -> None:
        self.settings = settings
        self.cluster = cluster
        self.plans = build_plan(
            settings.orders, settings.styles, settings.seed, settings.fault_rate
        )
        self.tracker = Tracker(client, data_dir, self.plans)
        self.tally = Tally()
        self.hands = Hands(client, self.tracker, self.tally, settings.seed)
        self.out = out
        self.all_placed = asyncio.Event()
        self.mid_run = asyncio.Event()
        self.last_placed = time.monotonic()

    async def orders(self) -> list[Placement]:
        """Place every order, break things meanwhile, and wait until the run is quiet."""
        background = [
            asyncio.create_task(self.tracker.run(), name="tracker"),
            asyncio.create_task(self.cluster.supervise(self.out.note), name="supervisor"),
            asyncio.create_task(self._show(), name="progress"),
        ]
        placements: list[Placement] = []

        async def place() -> None:
            try:
                placements.extend(await self._place_all())
            finally:  # the outages end with the placing, however it ends
                self.all_placed.set()
                self.mid_run.set()

        try:
            await together(place(), *self._outages())
            await self._settle()
        finally:
            await cancelled(*background)
        return placements

    async def _place_all(self) -> list[Placement]:
        slots = asyncio.Semaphore(self.settings.concurrency)
        return await together(
            *(
                run_order(self.hands, plan, slots, self.settings.settle_timeout, self._placed)
                for plan in self.plans
            )
        )

    def _placed(self) -> None:
        self.last_placed = time.monotonic()
        placed = len(self.tracker.placed)
        if placed > len(self.plans) // 2:
            self.mid_run.set()
        if placed == len(self.plans):
            self.all_placed.set()

    def _outages(self) -> list[Coroutine[Any, Any, None]]:
        kills = random.Random(f"{self.settings.seed}:kills")
        calls = [
            kill_workers(
                self.cluster,
                self.settings.kill_every,
                kills,
                self.all_placed,
                self.tally,
                self.out.note,
                self.settings.spared,
            )
        ]
        if self.settings.restart_server:
            calls.append(restart_server_once(self.cluster, self.mid_run, self.tally, self.out.note))
        return calls

    async def _settle(self) -> None:
        left = self.last_placed + self.settings.settle_timeout - time.monotonic()
        if not await self.tracker.until_quiet(left):
            self.out.note(
                f"not quiet {self.settings.settle_timeout:g} s after the last order was placed: "
                "the verdict names what is left"
            )

    async def _show(self) -> None:
        while True:
            tally = self.tally
            self.out.show(
                len(self.tracker.placed),
                self.tracker.settled,
                f"{len(tally.worker_kills)} worker kill(s), "
                f"{tally.server_restarts} server restart(s)",
            )
            await asyncio.sleep(SHOW_EVERY)


async def chaos(settings: Settings, out: Reporter) -> RunReport:
    started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="orders-chaos-"))
    workers = "a worker" if settings.replicas == 1 else f"{settings.replicas} workers"
    out.note(f"starting a dev server and {workers} per service (data in {data_dir})")
    async with running_cluster(data_dir, settings.replicas) as cluster:
        _point_this_process_at(cluster.address, data_dir)
        out.note(
            f"seed {settings.seed}: {settings.orders} orders in "
            f"{', '.join(style.value for style in settings.styles)}; dev server "
            f"{cluster.address} (Web UI http://localhost:{cluster.ui_port}); data in {data_dir}"
        )
        client = outlasting(await connect(runtime=_quiet_runtime()))
        run = Run(settings, cluster, client, data_dir, out)
        placements = await run.orders()
        out.note("settled: checking the invariants")
        breaches = await judge(Evidence(client, data_dir, run.tracker, placements, run.tally))
        by_style = figures_by_style(run.tracker, settings.styles)
    conflicts = conflicts_in_logs(logs_dir(data_dir))
    kept = bool(breaches)
    if not kept:
        shutil.rmtree(data_dir, ignore_errors=True)
    return RunReport(
        seed=settings.seed,
        orders=settings.orders,
        styles=settings.styles,
        seconds=time.monotonic() - started,
        server=cluster.address,
        data_dir=data_dir,
        kept=kept,
        by_style=by_style,
        breaches=breaches,
        tally=run.tally,
        plans={plan.order_id: plan for plan in run.plans},
        crashes=cluster.crashes,
        store_conflicts=conflicts,
    )
