"""`python -m benchmarks.dev_server_tuning [--orders N] [--idle-seconds S] [--json]`: what the
dev server's tuned settings (`infra.dev_server.TUNED_DYNAMIC_CONFIG` and
`TUNED_SQLITE_PRAGMAS`) change.

In one run, on two embedded dev servers started one after the other (the binary's defaults,
then the tuned settings), each with its history in a SQLite file of its own as
`starters.dev_server` keeps it, the plainest saga there is: six activities in a row, each
returning at once, run N times in sequence by a worker in this process. Per server it prints
the p50 and p95 of a workflow's end-to-end time (start to result), their ratio to the default
server's, and the server's CPU time over S seconds of idling (what the settings cost when
nothing runs).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.measure import percentile, server_cpu_seconds
from infra import cli
from infra.dev_server import TUNED_DYNAMIC_CONFIG, start_dev_server

STEPS = 6
QUEUE = "dev-server-tuning"
WARM_UP = 5
"""Runs left out of the figures: the first workflows also pay for connections and caches."""


@activity.defn
async def step(name: str) -> str:
    return name


@workflow.defn(sandboxed=False)
class PlainSaga:
    """Six steps in a row, nothing else: what the engine costs per step."""

    @workflow.run
    async def run(self) -> None:
        for index in range(STEPS):
            await workflow.execute_activity(
                step, f"step-{index}", start_to_close_timeout=timedelta(seconds=10)
            )


@dataclass(frozen=True)
class Row:
    server: str
    p50_ms: float
    p95_ms: float
    idle_cpu_ms_per_s: float
    p50_ratio: float = 1.0


async def _measure(name: str, tuned: bool, orders: int, idle_seconds: float) -> Row:
    history = Path(tempfile.mkdtemp(prefix="dev-server-tuning-")) / f"{name}.sqlite3"
    server = await start_dev_server(port=None, ui_port=None, ui=False, db_file=history, tuned=tuned)
    try:
        client: Client = server.client
        port = int(client.service_client.config.target_host.rsplit(":", 1)[1])
        seconds: list[float] = []
        async with Worker(client, task_queue=QUEUE, workflows=[PlainSaga], activities=[step]):
            for _ in range(orders + WARM_UP):
                started = time.perf_counter()
                await client.execute_workflow(PlainSaga.run, id=str(uuid.uuid4()), task_queue=QUEUE)
                seconds.append(time.perf_counter() - started)
        before = server_cpu_seconds(port)
        await asyncio.sleep(idle_seconds)
        idle = (server_cpu_seconds(port) - before) / idle_seconds
    finally:
        await server.shutdown()
        shutil.rmtree(history.parent, ignore_errors=True)
    measured = seconds[WARM_UP:]
    return Row(
        server=name,
        p50_ms=round(statistics.median(measured) * 1000, 1),
        p95_ms=round(percentile(measured, 0.95) * 1000, 1),
        idle_cpu_ms_per_s=round(idle * 1000, 1),
    )


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m benchmarks.dev_server_tuning", description=__doc__)
    parser.add_argument("--orders", type=int, default=30, help="runs per server (default 30)")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle time measured")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.idle_seconds <= 0:
        raise cli.BadInputError("--orders must be at least 1 and --idle-seconds above 0")
    default = await _measure("defaults", False, args.orders, args.idle_seconds)
    tuned = await _measure("tuned", True, args.orders, args.idle_seconds)
    rows = [default, Row(**{**asdict(tuned), "p50_ratio": round(tuned.p50_ms / default.p50_ms, 3)})]
    if args.json:
        print(json.dumps({"settings": TUNED_DYNAMIC_CONFIG, "rows": [asdict(r) for r in rows]}))
        return cli.EXIT_OK
    print(f"a {STEPS}-activity saga, {args.orders} runs in sequence per server")
    print(f"{'server':10} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10} {'idle CPU ms/s':>14}")
    for row in rows:
        print(
            f"{row.server:10} {row.p50_ms:8.1f} {row.p95_ms:8.1f} {row.p50_ratio:10.3f} "
            f"{row.idle_cpu_ms_per_s:14.1f}"
        )
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
