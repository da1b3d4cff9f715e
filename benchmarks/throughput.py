"""`python -m benchmarks.throughput [--orders N] [--concurrency C] [--styles STYLE ...] [--json]
[--skip-untuned] [--history-in-memory] [--soak N]`: what each style costs per order, against the
plainest saga.

Starts its own embedded dev server as `starters.dev_server` does: the tuned settings, its history
in a SQLite file (`--history-in-memory` keeps it in memory instead, which makes every order
faster than a user's dev server runs it), and runs in this process the workers of every service
and the baseline's (`benchmarks.baseline_saga`: one workflow, eleven idempotent SQLite steps,
nothing else). Stores, history file and the development payments key live in a temporary directory.

Each style runs the happy order with no waiting: no handling time, no carrier booking latency,
the simulated carrier picking up and delivering at once (approval is not needed: small items).
For the baseline and each style, N orders one at a time, then N orders with C in flight at once,
after a few warm-up orders that are left out. Per row: p50 and p95 of placement to outcome (the
result of the workflow that answers for the order, which on the happy path closes last) and
orders/s (N over the phase's wall time), each also over the baseline's in the same mode; history
events and billable actions per order, as `starters.compare` counts them once every workflow of
the order has closed; and CPU time per order of the dev server (from /proc) and of this process,
which holds the workers, the simulated carrier and the load generator alike. Then the baseline
alone on a dev server with the binary's defaults, one at a time (`--skip-untuned` leaves it out),
for what the tuning buys. The targets are printed as ratios with a mark; a missed target is
reported, it does not fail the run.

`--soak N`: only N orders of the first style given (orchestrated by default) at a steady
concurrency C, reported per window of 500 orders: orders/s, p50, p95, and the resident memory of
this process and of the dev server at the window's end; then the change from the first window to
the last in p95 and in this process's memory (the target: within 15 %).

Exit 0 when every order completed, 1 when any did not (each is named), 2 on bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks.load import (
    BASELINE,
    WARM_UP,
    Counts,
    Sample,
    Subject,
    baseline_running,
    baseline_subject,
    count_all,
    dev_server,
    port_of,
    project_client,
    run_orders,
    scratch_data_dir,
    status,
    style_subject,
)
from benchmarks.measure import cpu_seconds, machine, percentile, server_pid
from benchmarks.output import cell_text, console_with, print_failures, print_json
from benchmarks.soak import report_soak, soak
from client.orders import PLACEABLE_STYLES
from domain.services import Service, Style
from infra import cli
from workers.pool import running_workers

__all__ = ["BASELINE", "CONCURRENT", "SEQUENTIAL", "main"]
"""What the tests import: the subject and the modes rows are named by, and the command."""

SEQUENTIAL = "sequential"
CONCURRENT = "concurrent"


# -- what one run measures --------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    subject: str
    server: str
    mode: str
    concurrency: int
    samples: list[Sample]
    wall: float
    server_cpu: float
    worker_cpu: float
    counts: list[Counts]


@dataclass(frozen=True)
class Row:
    subject: str
    server: str
    mode: str
    concurrency: int
    orders: int
    completed: int
    p50_ms: float
    p95_ms: float
    orders_per_s: float
    events_per_order: float
    actions_per_order: float
    server_cpu_ms_per_order: float
    worker_cpu_ms_per_order: float
    unsettled: int
    p50_ratio: float | None = None
    """p50 over the baseline's in the same mode, on the tuned server."""
    orders_per_s_ratio: float | None = None


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float
    at_most: bool

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit


# -- the phases -------------------------------------------------------------------------------


async def measure_phase(
    subject: Subject, server: str, pid: int, mode: str, orders: int, concurrency: int
) -> Phase:
    """One phase; the histories are read after its clocks have stopped."""
    how = "one at a time" if concurrency == 1 else f"{concurrency} at once"
    status(f"{subject.name} on the {server} server: {orders} orders, {how} ...")
    cpu, server_cpu, started = time.process_time(), cpu_seconds(pid), time.perf_counter()
    samples = await run_orders(subject.run, orders, concurrency)
    wall = time.perf_counter() - started
    server_cpu, cpu = cpu_seconds(pid) - server_cpu, time.process_time() - cpu
    counts = await count_all(subject, samples)
    return Phase(subject.name, server, mode, concurrency, samples, wall, server_cpu, cpu, counts)


async def measure_subject(
    subject: Subject, server: str, pid: int, orders: int, concurrency: int | None
) -> list[Phase]:
    """Warm up, then one at a time, then (unless `concurrency` is None) `concurrency` at once."""
    await run_orders(subject.run, WARM_UP, 1)
    phases = [await measure_phase(subject, server, pid, SEQUENTIAL, orders, 1)]
    if concurrency is not None:
        phases.append(await measure_phase(subject, server, pid, CONCURRENT, orders, concurrency))
    return phases


async def tuned_phases(plan: Plan, data_dir: Path) -> list[Phase]:
    """The baseline and each style, one at a time and at the concurrency, on the tuned server."""
    async with dev_server(plan.history_in_memory, data_dir, tuned=True) as server:
        client = await project_client(server)
        pid = server_pid(port_of(client))
        styles = (style_subject(client, style) for style in plan.styles)
        subjects = [baseline_subject(server.client), *styles]
        async with (
            running_workers(client, list(Service), data_dir),
            baseline_running(server.client, data_dir),
        ):
            return [
                phase
                for subject in subjects
                for phase in await measure_subject(
                    subject, "tuned", pid, plan.orders, plan.concurrency
                )
            ]


async def untuned_phases(plan: Plan, data_dir: Path) -> list[Phase]:
    """The baseline, one at a time, on a server with the binary's defaults."""
    async with dev_server(plan.history_in_memory, data_dir, tuned=False) as server:
        pid = server_pid(port_of(server.client))
        async with baseline_running(server.client, data_dir):
            subject = baseline_subject(server.client)
            return await measure_subject(subject, "untuned", pid, plan.orders, None)


# -- rows and targets -------------------------------------------------------------------------


def row_of(phase: Phase) -> Row:
    seconds = [sample.seconds for sample in phase.samples]
    orders = len(phase.samples)
    return Row(
        subject=phase.subject,
        server=phase.server,
        mode=phase.mode,
        concurrency=phase.concurrency,
        orders=orders,
        completed=sum(sample.completed for sample in phase.samples),
        p50_ms=round(percentile(seconds, 0.5) * 1000, 1),
        p95_ms=round(percentile(seconds, 0.95) * 1000, 1),
        orders_per_s=round(orders / phase.wall, 2),
        events_per_order=round(sum(c.events for c in phase.counts) / orders, 1),
        actions_per_order=round(sum(c.actions for c in phase.counts) / orders, 1),
        server_cpu_ms_per_order=round(phase.server_cpu * 1000 / orders, 1),
        worker_cpu_ms_per_order=round(phase.worker_cpu * 1000 / orders, 1),
        unsettled=sum(not c.settled for c in phase.counts),
    )


def with_ratios(rows: Sequence[Row]) -> list[Row]:
    """Each row against the tuned baseline's in the same mode."""
    baseline = {row.mode: row for row in rows if row.subject == BASELINE and row.server == "tuned"}
    return [
        dataclasses.replace(
            row,
            p50_ratio=round(row.p50_ms / baseline[row.mode].p50_ms, 2),
            orders_per_s_ratio=round(row.orders_per_s / baseline[row.mode].orders_per_s, 2),
        )
        for row in rows
    ]


Where = tuple[str, str, str]
"""A row: subject, server, mode."""


@dataclass(frozen=True)
class Goal:
    name: str
    """`{c}`: the concurrency."""
    figure: str
    of: Where
    over: Where | None
    """The row `figure` is divided by; None: the figure as it is."""
    limit: float
    at_most: bool


def _tuned(subject: str, mode: str = SEQUENTIAL) -> Where:
    return (subject, "tuned", mode)


BASE, BASE_C = _tuned(BASELINE), _tuned(BASELINE, CONCURRENT)
ORCH, ORCH_C = _tuned(Style.ORCHESTRATED), _tuned(Style.ORCHESTRATED, CONCURRENT)
CHOR, CHOR_C = _tuned(Style.CHOREOGRAPHED), _tuned(Style.CHOREOGRAPHED, CONCURRENT)
HYBRID_C, UNTUNED = _tuned(Style.HYBRID, CONCURRENT), (BASELINE, "untuned", SEQUENTIAL)
P50, RATE, EVENTS, ACTIONS = "p50_ms", "orders_per_s", "events_per_order", "actions_per_order"
AT_MOST, AT_LEAST = True, False
GOALS = (
    Goal("orchestrated p50 / baseline's, sequential", P50, ORCH, BASE, 2.0, AT_MOST),
    Goal("orchestrated orders/s / baseline's, {c} at once", RATE, ORCH_C, BASE_C, 0.5, AT_LEAST),
    Goal(
        "choreographed orders/s / orchestrated's, {c} at once", RATE, CHOR_C, ORCH_C, 0.7, AT_LEAST
    ),
    Goal("hybrid orders/s / orchestrated's, {c} at once", RATE, HYBRID_C, ORCH_C, 0.8, AT_LEAST),
    Goal("orchestrated history events per order", EVENTS, ORCH, None, 90, AT_MOST),
    Goal("orchestrated billable actions per order", ACTIONS, ORCH, None, 26, AT_MOST),
    Goal("choreographed events / orchestrated's", EVENTS, CHOR, ORCH, 1.5, AT_MOST),
    Goal("choreographed actions / orchestrated's", ACTIONS, CHOR, ORCH, 1.5, AT_MOST),
    Goal("tuned baseline p50 / untuned baseline's", P50, BASE, UNTUNED, 0.2, AT_MOST),
)
"""The targets; one whose rows were not measured (a style left out, no untuned server) is left
out."""


def targets(rows: Sequence[Row], concurrency: int) -> list[Target]:
    by: dict[Where, Row] = {(row.subject, row.server, row.mode): row for row in rows}
    found = []
    for goal in GOALS:
        row, other = by.get(goal.of), by.get(goal.over) if goal.over else None
        if row is None or (goal.over is not None and other is None):
            continue
        value = getattr(row, goal.figure) / (getattr(other, goal.figure) if other else 1)
        name = goal.name.format(c=concurrency)
        found.append(Target(name, round(value, 2), goal.limit, goal.at_most))
    return found


def failures(phases: Sequence[Phase]) -> list[dict[str, str]]:
    return [
        {"subject": phase.subject, "mode": phase.mode, "order_id": s.order_id, "outcome": s.outcome}
        for phase in phases
        for s in phase.samples
        if not s.completed
    ]


# -- output -----------------------------------------------------------------------------------


def header(plan: Plan) -> list[str]:
    about = machine()
    history = "memory" if plan.history_in_memory else "a SQLite file"
    run = (
        f"{plan.orders} orders per phase after {WARM_UP} warm-up orders"
        if plan.soak is None
        else f"{WARM_UP} warm-up orders first"
    )
    return [
        f"machine: {about['cpu']}, {about['cores']} cores; Python {about['python']}, "
        f"temporalio {about['temporalio']}; load average now {about['load_average']}",
        f"the happy order with no waiting: {run}; the dev server's history in {history}",
    ]


ROW_COLUMNS = (
    ("subject", "subject"),
    ("server", "server"),
    ("mode", "mode"),
    ("completed", "done"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("orders_per_s", "orders/s"),
    ("p50_ratio", "p50 ratio"),
    ("orders_per_s_ratio", "orders/s ratio"),
    ("events_per_order", "events"),
    ("actions_per_order", "actions"),
    ("server_cpu_ms_per_order", "server CPU"),
    ("worker_cpu_ms_per_order", "workers CPU"),
)


def rows_table(rows: Sequence[Row]) -> Table:
    table = Table(
        title="events, actions and CPU (ms) per order; ratios over the tuned baseline's, same mode"
    )
    for _, title in ROW_COLUMNS:
        table.add_column(title, no_wrap=True, justify="left" if title in _TEXT else "right")
    for row in rows:
        values = asdict(row)
        values["completed"] = f"{row.completed}/{row.orders}"
        values["mode"] = row.mode if row.mode == SEQUENTIAL else f"{row.concurrency} at once"
        table.add_row(*(cell_text(values[name]) for name, _ in ROW_COLUMNS))
    return table


_TEXT = frozenset({"subject", "server", "mode"})


def targets_table(found: Sequence[Target]) -> Table:
    table = Table(title="targets")
    for title in ("target", "value", "limit", ""):
        table.add_column(title, no_wrap=True, justify="left" if title == "target" else "right")
    for target in found:
        mark = "[green]✓ pass[/]" if target.met else "[red]✗ miss[/]"
        limit = f"{'≤' if target.at_most else '≥'} {target.limit:g}"
        table.add_row(target.name, f"{target.value:g}", limit, mark)
    return table


# -- the command ------------------------------------------------------------------------------


def at_least_one(text: str) -> int:
    """A count given on the command line: checked before anything starts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


@dataclass(frozen=True)
class Plan:
    """What the command line asks for."""

    orders: int
    concurrency: int
    styles: tuple[Style, ...]
    untuned: bool
    soak: int | None
    history_in_memory: bool
    json: bool

    def settings(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "orders": self.soak or self.orders,
            "warm_up": WARM_UP,
            "history": "memory" if self.history_in_memory else "file",
        }


def parse_args(argv: Sequence[str] | None) -> Plan:
    parser = cli.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.add_argument("--orders", type=at_least_one, default=20, help="per phase (default 20)")
    parser.add_argument(
        "--concurrency", type=at_least_one, default=10, help="orders in flight (default 10)"
    )
    parser.add_argument(
        "--styles",
        nargs="+",
        choices=[style.value for style in PLACEABLE_STYLES],
        default=[style.value for style in PLACEABLE_STYLES],
        help="the styles measured (default: all three)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of tables")
    parser.add_argument(
        "--skip-untuned", action="store_true", help="leave out the baseline on an untuned server"
    )
    parser.add_argument(
        "--soak", type=at_least_one, metavar="N", help="only a soak of N orders (see above)"
    )
    parser.add_argument(
        "--history-in-memory",
        action="store_true",
        help="keep the servers' history in memory (default: a SQLite file, as "
        "starters.dev_server does)",
    )
    args = parser.parse_args(argv)
    return Plan(
        orders=args.orders,
        concurrency=args.concurrency,
        styles=tuple(Style(name) for name in dict.fromkeys(args.styles)),
        untuned=not args.skip_untuned,
        soak=args.soak,
        history_in_memory=args.history_in_memory,
        json=args.json,
    )


async def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)
    with scratch_data_dir() as data_dir:
        if plan.soak is not None:
            report = await soak(
                style=plan.styles[0],
                concurrency=plan.concurrency,
                orders=plan.soak,
                in_memory=plan.history_in_memory,
                data_dir=data_dir,
            )
            return report_soak(
                report, as_json=plan.json, settings=plan.settings(), header=header(plan)
            )
        phases = await tuned_phases(plan, data_dir)
        if plan.untuned:
            phases += await untuned_phases(plan, data_dir)
    return report_rows(plan, phases)


def report_rows(plan: Plan, phases: Sequence[Phase]) -> int:
    rows = with_ratios([row_of(phase) for phase in phases])
    found, failed = targets(rows, plan.concurrency), failures(phases)
    if plan.json:
        print_json(
            plan.settings(),
            rows=[asdict(row) for row in rows],
            targets=[{**asdict(target), "met": target.met} for target in found],
            failures=failed,
        )
    else:
        console = console_with(header(plan), 160)
        console.print(rows_table(rows))
        if found:
            console.print(targets_table(found))
        else:
            console.print("no target applies to the rows measured (they compare orchestrated)")
        print_failures(console, failed)
    return cli.EXIT_REFUSED if failed else cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
