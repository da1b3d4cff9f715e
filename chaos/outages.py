"""The outages a run causes while its orders are in flight: a worker SIGKILLed every few
seconds and started again, and, once, the dev server itself, started again on the same
history file. Both stop when the last order has been placed, so that the run can settle."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from chaos.processes import Cluster
from chaos.tally import Tally
from domain.services import Service

Note = Callable[[str], None]


async def kill_workers(
    cluster: Cluster,
    every: float,
    rng: random.Random,
    until: asyncio.Event,
    tally: Tally,
    note: Note,
    spared: frozenset[Service] = frozenset(),
) -> None:
    """Every `every` seconds (0: never) until `until` is set, SIGKILL a worker drawn from
    `rng` (never one of `spared`) and start a new one."""
    services = [service for service in Service if service not in spared]
    if every <= 0 or not services:
        return
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), every)
        if until.is_set():
            return
        service = rng.choice(services)
        replica = rng.randrange(len(cluster.workers[service]))
        started = time.monotonic()
        await cluster.kill_worker(service, replica)
        tally.worker_kills.append(service)
        note(
            f"killed the {cluster.workers[service][replica].name} (SIGKILL) and started a new "
            f"one in {time.monotonic() - started:.1f} s"
        )


async def restart_server_once(
    cluster: Cluster, when: asyncio.Event, tally: Tally, note: Note
) -> None:
    """Once `when` is set: SIGKILL the dev server and start it again on the same file."""
    await when.wait()
    started = time.monotonic()
    await cluster.restart_server()
    tally.server_restarts += 1
    note(
        f"killed the dev server (SIGKILL) and started it again on {cluster.db_file} "
        f"in {time.monotonic() - started:.1f} s"
    )
