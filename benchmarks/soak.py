"""`benchmarks.throughput --soak N`: many orders of one style at a steady concurrency, measured
per window of orders (orders/s, p50, p95, and the memory of the workers' process and of the dev
server at the window's end), and the change from the first window to the last.

Its own module because the soak asks another question than the measured phases (does a long run
stay as fast and as small as a short one, not what a style costs against the baseline) and reports
it in its own table and JSON; it shares with them only how orders are run (`benchmarks.load`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks.load import (
    WARM_UP,
    Sample,
    dev_server,
    port_of,
    project_client,
    run_orders,
    status,
    style_subject,
)
from benchmarks.measure import percentile, rss_mb, server_pid
from benchmarks.output import cell_text, console_with, print_failures, print_json
from domain.services import Service, Style
from infra import cli
from workers.pool import running_workers

SOAK_WINDOW = 500
"""Orders per window."""
SOAK_TARGET_PERCENT = 15.0
"""How far p95 and the workers' memory may move from the first window to the last."""


@dataclass(frozen=True)
class Window:
    index: int
    orders: int
    orders_per_s: float
    p50_ms: float
    p95_ms: float
    worker_rss_mb: float
    server_rss_mb: float


@dataclass(frozen=True)
class _Mark:
    """Where a window ended: when, and the two processes' memory then."""

    at: float
    worker_rss_mb: float
    server_rss_mb: float


async def soak(
    style: Style, concurrency: int, orders: int, in_memory: bool, data_dir: Path
) -> dict[str, Any]:
    """`orders` orders of `style`, `concurrency` at once, measured per window, on a tuned dev
    server (its history in memory when `in_memory`) with its stores in `data_dir`."""
    async with dev_server(in_memory, data_dir, tuned=True) as server:
        client = await project_client(server)
        pid = server_pid(port_of(client))
        subject = style_subject(client, style)
        async with running_workers(client, list(Service), data_dir):
            await run_orders(subject.run, WARM_UP, 1)
            status(f"soak: {orders} {style.value} orders, {concurrency} at once ...")
            marks: list[_Mark] = []

            def on_done(done: int) -> None:
                if done % SOAK_WINDOW == 0 or done == orders:
                    marks.append(_Mark(time.perf_counter(), rss_mb(), rss_mb(pid)))
                    status(f"  {done} orders done")

            started = time.perf_counter()
            samples = await run_orders(subject.run, orders, concurrency, on_done)
    windows = soak_windows(samples, marks, started)
    return {
        "style": style.value,
        "orders": orders,
        "concurrency": concurrency,
        "window": SOAK_WINDOW,
        "windows": [asdict(window) for window in windows],
        "change_percent": soak_changes(windows),
        "target_percent": SOAK_TARGET_PERCENT,
        "failures": [
            {"order_id": s.order_id, "outcome": s.outcome} for s in samples if not s.completed
        ],
    }


def soak_windows(samples: Sequence[Sample], marks: Sequence[_Mark], started: float) -> list[Window]:
    windows = []
    for index, mark in enumerate(marks):
        mine = samples[index * SOAK_WINDOW : (index + 1) * SOAK_WINDOW]
        seconds = [sample.seconds for sample in mine]
        since = marks[index - 1].at if index else started
        windows.append(
            Window(
                index=index + 1,
                orders=len(mine),
                orders_per_s=round(len(mine) / (mark.at - since), 2),
                p50_ms=round(percentile(seconds, 0.5) * 1000, 1),
                p95_ms=round(percentile(seconds, 0.95) * 1000, 1),
                worker_rss_mb=round(mark.worker_rss_mb, 1),
                server_rss_mb=round(mark.server_rss_mb, 1),
            )
        )
    return windows


def soak_changes(windows: Sequence[Window]) -> dict[str, float]:
    """From the first window to the last, in %; one window alone changes nothing."""
    first, last = windows[0], windows[-1]
    return {
        "p95": round((last.p95_ms - first.p95_ms) / first.p95_ms * 100, 1),
        "workers_rss": round(
            (last.worker_rss_mb - first.worker_rss_mb) / first.worker_rss_mb * 100, 1
        ),
    }


def soak_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"soak: {report['orders']} {report['style']} orders, "
        f"{report['concurrency']} at once, windows of {report['window']}"
    )
    columns = (
        "window",
        "orders",
        "orders/s",
        "p50 ms",
        "p95 ms",
        "workers RSS MB",
        "server RSS MB",
    )
    for title in columns:
        table.add_column(title, justify="right", no_wrap=True)
    for window in report["windows"]:
        table.add_row(*(cell_text(value) for value in window.values()))
    return table


def report_soak(
    report: dict[str, Any], *, as_json: bool, settings: dict[str, Any], header: Sequence[str]
) -> int:
    """The soak's report (`soak`'s result) on stdout, as JSON or as the header's lines, the table
    and the changes against the target; the command's exit code."""
    if as_json:
        print_json(settings, soak=report)
    else:
        console = console_with(header, 120)
        console.print(soak_table(report))
        limit = report["target_percent"]
        for name, change in report["change_percent"].items():
            mark = "[green]✓ pass[/]" if abs(change) <= limit else "[red]✗ miss[/]"
            what = name.replace("_", " ").replace("rss", "RSS")
            console.print(f"first to last window, {what}: {change:+.1f} % (±{limit:g} %) {mark}")
        print_failures(console, report["failures"])
    return cli.EXIT_REFUSED if report["failures"] else cli.EXIT_OK
