"""`python -m starters.chaos [--orders N] [--styles STYLE ...] [--seed S] [--kill-every SECONDS]
[--restart-server] [--fault-rate F] [--concurrency N] [--settle-timeout SECONDS] [--json]`:
a chaos run anyone can start.

It starts a dev server of its own on a history file in a temporary data dir, runs each
service's worker as its own process, and places N orders across the styles and scenarios, drawn
from the seed. Meanwhile it SIGKILLs a random worker every few seconds and starts a new one;
with --restart-server it kills the dev server once, mid-run, and starts it again on the same
file; it injects gateway time-outs into a share of the orders, cancels workflows before and
after the pivot, sends people's requests at random moments (some two at once: approve and
reject, cancel twice) and re-delivers published events. Then it waits, bounded, for every order
to settle (ended, or parked waiting for a person), runs the audit and prints a table per style
and the invariants: lost, stuck, double charge, leaked reservation, effects mismatch, unexpected
outcome, conflicting decisions.

Exit 0 when every invariant holds, 1 when one does not (the data dir is then kept, and named),
2 on bad input, 130 when interrupted. Every process it started is stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from domain.services import Service, Style
from infra import cli
from infra.client import connect
from infra.data_dir import DATA_DIR_VARIABLE
from starters.chaos_run.conflicts import conflicts_in_logs
from starters.chaos_run.disturb import Hands
from starters.chaos_run.figures import figures_by_style
from starters.chaos_run.orders import Placement, run_order
from starters.chaos_run.outages import kill_workers, restart_server_once
from starters.chaos_run.plan import build_plan
from starters.chaos_run.processes import (
    BINARY_VARIABLES,
    Cluster,
    child_env,
    logs_dir,
    running_cluster,
)
from starters.chaos_run.progress import Reporter, reporter
from starters.chaos_run.report import RunReport, print_report
from starters.chaos_run.resilience import outlasting
from starters.chaos_run.tally import Tally
from starters.chaos_run.tasks import cancelled, together
from starters.chaos_run.tracker import Tracker
from starters.chaos_run.verdict import Evidence, judge
from starters.order_client import PLACEABLE_STYLES
from starters.output import print_json

PROG = "python -m starters.chaos"
MAX_ORDERS = 100_000
MAX_CONCURRENCY = 1_000
MAX_REPLICAS = 4
"""Worker processes per service at most: five services of four each are twenty processes."""
MAX_SECONDS = 86_400.0
SHOW_EVERY = 0.5
"""Seconds between two refreshes of the progress."""


@dataclass(frozen=True)
class Settings:
    orders: int
    styles: tuple[Style, ...]
    seed: int
    kill_every: float
    spared: frozenset[Service]
    restart_server: bool
    fault_rate: float
    concurrency: int
    settle_timeout: float
    json: bool
    replicas: int = 1
    """Worker processes per service, over the same stores."""


# -- the command line ---------------------------------------------------------------------------


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number (got {text!r})") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high} (got {value})")
        return value

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number (got {text!r})") from None


def _seconds(*, zero_allowed: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(text)
        low_ok = value >= 0 if zero_allowed else value > 0
        if not (low_ok and value <= MAX_SECONDS):  # `not` also refuses nan
            low = "0" if zero_allowed else "more than 0"
            raise argparse.ArgumentTypeError(
                f"must be {low} to {MAX_SECONDS:g} seconds (got {text})"
            )
        return value

    return parse


def _share(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be 0 to 1 (got {text})")
    return value


def _style(text: str) -> Style:
    known = {style.value: style for style in PLACEABLE_STYLES}
    if text not in known:
        raise argparse.ArgumentTypeError(f"unknown style {text!r}; choose from {', '.join(known)}")
    return known[text]


def _service(text: str) -> Service:
    known = {service.value: service for service in Service}
    if text not in known:
        raise argparse.ArgumentTypeError(
            f"unknown service {text!r}; choose from {', '.join(known)}"
        )
    return known[text]


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--orders", type=_count(1, MAX_ORDERS), default=100, help="orders to place (100)"
    )
    parser.add_argument(
        "--styles",
        nargs="+",
        type=_style,
        default=list(PLACEABLE_STYLES),
        metavar="STYLE",
        help=f"styles to place them in (default: {' '.join(s.value for s in PLACEABLE_STYLES)})",
    )
    parser.add_argument(
        "--seed", type=_count(0, 2**63 - 1), default=None, help="the run's seed (default: random)"
    )
    parser.add_argument(
        "--kill-every",
        type=_seconds(zero_allowed=True),
        default=10.0,
        metavar="SECONDS",
        help="SIGKILL a random worker this often while orders are placed (10; 0: never)",
    )
    parser.add_argument(
        "--spare",
        nargs="+",
        type=_service,
        default=[],
        metavar="SERVICE",
        help="services whose workers are never killed (default: none)",
    )
    parser.add_argument(
        "--restart-server",
        action="store_true",
        help="kill the dev server once mid-run and start it again on the same history",
    )
    parser.add_argument(
        "--fault-rate",
        type=_share,
        default=0.2,
        metavar="F",
        help="share of orders given transient gateway time-outs (0.2)",
    )
    parser.add_argument(
        "--concurrency",
        type=_count(1, MAX_CONCURRENCY),
        default=25,
        help="orders in flight at once (25)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=_seconds(zero_allowed=False),
        default=180.0,
        metavar="SECONDS",
        help="how long an order, and the run's end, may take to settle (180)",
    )
    parser.add_argument(
        "--replicas",
        type=_count(1, MAX_REPLICAS),
        default=1,
        help="worker processes per service, sharing its store (1); with ORDERS_STORE_URL the "
        "stores are PostgreSQL's, as workers on several machines would share them",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def parse_settings(argv: Sequence[str] | None) -> Settings:
    args = _parser().parse_args(argv)
    return Settings(
        orders=args.orders,
        styles=tuple(dict.fromkeys(args.styles)),
        seed=args.seed if args.seed is not None else secrets.randbelow(1_000_000),
        kill_every=args.kill_every,
        spared=frozenset(args.spare),
        restart_server=args.restart_server,
        fault_rate=args.fault_rate,
        concurrency=args.concurrency,
        settle_timeout=args.settle_timeout,
        json=args.json,
        replicas=args.replicas,
    )


# -- the run ------------------------------------------------------------------------------------


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


async def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    stop = cli.interruption()  # Ctrl-C or SIGTERM: stop every process started, exit 130
    out = reporter(settings.orders)
    run = asyncio.create_task(chaos(settings, out))
    interrupted = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({run, interrupted}, return_when=asyncio.FIRST_COMPLETED)
        if not run.done():
            await cancelled(run)
            raise KeyboardInterrupt  # `cli.run` says so on one line and exits 130
    finally:
        out.close()
        interrupted.cancel()
    report = run.result()
    if settings.json:
        print_json(report.as_json())
    else:
        print_report(report, Console(width=max(Console().width, 120)))
    return cli.EXIT_OK if report.ok else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
