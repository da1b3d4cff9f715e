"""The rehearsal, step by step, on a dev server of its own (it moves the deployment's current
version, which is nobody else's to move), with stores in a directory of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from chaos.processes import child_env
from client.orders import send_update, wait_for_outcome
from domain.commands import UPDATE_APPROVE, Approve
from domain.services import Service
from infra.binaries import temporal_cli
from infra.cli import RefusedError
from infra.data_dir import DATA_DIR_VARIABLE
from infra.dev_server import start_dev_server, stdout_to_stderr
from starters.upgrade_rehearsal.builds import (
    V1,
    V2,
    V2_NOTICE,
    Build,
    next_build,
    this_build,
    version_of,
    workers_of,
)
from starters.upgrade_rehearsal.orders import (
    RehearsedOrder,
    Verdict,
    Wait,
    builds_run_on,
    dispatch_event_fields,
    dispatch_notice,
    is_waiting,
    place_orders_that_wait,
)
from stores import store_location
from stores.audit import audit_stores
from stores.notifications import NotificationsStore
from stores.shipping import ShippingStore
from workers.carrier_simulator import CarrierSimulator
from workers.deployment import DEFAULT_DEPLOYMENT, current_version, is_drained, label

BEFORE_V2 = "before v2 started"
V2_UP = "with v2 up, not current"
V2_CURRENT = "once v2 was current"
"""When the rehearsal places orders: the ones placed before v2 was made current must run on v1,
even those placed while v2's workers were already polling the same task queues."""

PATIENCE = timedelta(seconds=90)
"""How long any one step may take before the rehearsal calls it stalled."""

PROMPT_DRAINAGE: dict[str, int | str] = {
    "matching.wv.VersionDrainageStatusRefreshInterval": "1s",
    "matching.wv.VersionDrainageStatusVisibilityGracePeriod": "1s",
}
"""The server looks at a version's open workflows every 3 minutes by default, after a grace of
3 more; the rehearsal's server looks every second, so that v1 shows drained as soon as it is."""


@dataclass
class Rehearsal:
    client: Client
    address: str
    data_dir: Path
    env: dict[str, str]
    """What the rehearsal's own processes run with: pointed at its server and stores, none of the
    user's `TEMPORAL_*` settings (an exported API key or namespace would send them elsewhere)."""
    say: Callable[[str], None]
    orders: list[RehearsedOrder] = field(default_factory=list)

    async def until(self, what: str, done: Callable[[], Awaitable[bool]]) -> None:
        """Wait for `done`, or give up as a stall after PATIENCE."""
        deadline = asyncio.get_running_loop().time() + PATIENCE.total_seconds()
        while not await done():
            if asyncio.get_running_loop().time() > deadline:
                raise RefusedError(f"stalled: {what} within {PATIENCE.total_seconds():g} s")
            await asyncio.sleep(0.25)

    async def expect_current(self, build: Build) -> None:
        current = await current_version(self.client, DEFAULT_DEPLOYMENT)
        if current != version_of(build):
            shown = label(current) if current else "none"
            raise RefusedError(f"expected {label(version_of(build))} current, found {shown}")

    async def place_waiting_orders(
        self, build: Build, when: str, waits: Sequence[Wait] = tuple(Wait)
    ) -> None:
        """Orders placed while `build` is current, each left waiting."""
        placed = await place_orders_that_wait(self.client, build.build_id, when, waits)
        self.orders += placed
        await self.until(
            f"the orders placed {when} waiting",
            lambda: _all([is_waiting(self.client, order) for order in placed]),
        )
        self.say(
            f"placed {len(placed)} orders {when}, in every style, each now waiting "
            f"({', '.join(w.value for w in waits)})"
        )

    async def make_current(self, build: Build) -> None:
        """As an operator would, with the Temporal CLI."""
        command = [
            str(temporal_cli()),
            "worker",
            "deployment",
            "set-current-version",
            "--address",
            self.address,
            "--deployment-name",
            DEFAULT_DEPLOYMENT,
            "--build-id",
            build.build_id,
            "--yes",
        ]
        ran = await asyncio.to_thread(
            subprocess.run, command, env=self.env, capture_output=True, text=True, check=False
        )
        if ran.returncode != 0:
            raise RefusedError(f"set-current-version {build.build_id}: {ran.stderr.strip()}")
        self.say("$ temporal worker deployment set-current-version " + " ".join(command[6:]))

    async def finish_every_order(self) -> list[Verdict]:
        approve = Approve(approver="upgrade-rehearsal", comment="approved after the upgrade")
        for order in self.orders:
            if order.wait is Wait.APPROVAL:
                await send_update(self.client, order.order_id, UPDATE_APPROVE, approve)
        self.say("approved the orders waiting for approval; the carrier reports from now on")
        carrier = CarrierSimulator(
            self.client, ShippingStore(store_location(self.data_dir, Service.SHIPPING))
        )
        reporting = asyncio.create_task(carrier.run(), name="rehearsal-carrier")
        try:
            ended = await asyncio.gather(
                *(wait_for_outcome(self.client, order.placed, PATIENCE) for order in self.orders)
            )
        finally:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
        notifications = NotificationsStore(store_location(self.data_dir, Service.NOTIFICATIONS))
        return [
            Verdict(
                order,
                outcome.status,
                await builds_run_on(self.client, order),
                dispatch_notice(notifications, order),
                await dispatch_event_fields(self.client, order),
            )
            for order, outcome in zip(self.orders, ended, strict=True)
        ]

    async def until_drained(self, build: Build) -> None:
        await self.until(
            f"{build.build_id} drained", lambda: is_drained(self.client, version_of(build))
        )
        self.say(f"{build.build_id} drained: no workflow is pinned to it any more")


async def _all(checks: Iterable[Awaitable[bool]]) -> bool:
    return all(await asyncio.gather(*checks))


@contextlib.asynccontextmanager
async def own_server(ui_port: int | None) -> AsyncIterator[WorkflowEnvironment]:
    with stdout_to_stderr():  # the server's banner is not the rehearsal's story
        server = await start_dev_server(
            port=None, ui_port=ui_port, ui=ui_port is not None, dynamic_config=PROMPT_DRAINAGE
        )
    try:
        yield server
    finally:
        await server.shutdown()


@contextlib.asynccontextmanager
async def rehearsed(
    work: Path, console: Console, ui_port: int | None = None
) -> AsyncIterator[list[Verdict]]:
    """The whole upgrade, v1 to v2, with orders in flight; the verdict on every order, while
    the server (with its Web UI on `ui_port`, if given) and v2's workers are still up."""
    data_dir = work / "data"
    data_dir.mkdir()
    os.environ[DATA_DIR_VARIABLE] = str(data_dir)  # where this process seals tokens and audits
    logs = work / "logs"
    async with own_server(ui_port) as server:
        client = server.client
        address = client.service_client.config.target_host
        env = child_env(address, data_dir)
        rehearsal = Rehearsal(client, address, data_dir, env, console.print)
        v1_build, v2_build = this_build(), next_build(work / "next-build")
        console.print(f"dev server at {address}; stores and logs in {work}")
        v1 = workers_of(v1_build, env, logs)
        v2 = workers_of(v2_build, env, logs)
        try:
            await v1.start()
            await rehearsal.expect_current(v1_build)
            console.print(f"workers of {V1} (this checkout) up: {V1} is current")
            await rehearsal.place_waiting_orders(v1_build, BEFORE_V2)
            await v2.start()
            await rehearsal.expect_current(v1_build)
            console.print(
                f"workers of {V2} (this checkout + next_build.patch) up beside them: {V1} is still "
                "current"
            )
            await rehearsal.place_waiting_orders(v1_build, V2_UP, waits=[Wait.CARRIER])
            await rehearsal.make_current(v2_build)
            await rehearsal.expect_current(v2_build)
            await rehearsal.place_waiting_orders(v2_build, V2_CURRENT)
            verdicts = await rehearsal.finish_every_order()
            await rehearsal.until_drained(v1_build)
            await v1.stop()
            console.print(f"stopped the workers of {V1}")
            yield verdicts
        finally:  # either may be down already: a stop then only collects what is left
            await v2.stop()
            await v1.stop()


def audit(data_dir: Path) -> list[str]:
    """What the audit of the rehearsal's stores found wrong (nothing, if the upgrade lost
    nothing)."""
    report = audit_stores(data_dir)
    found = [f"audit: {violation}" for violation in report.violations]
    if report.open_orders:
        found.append(f"audit: {len(report.open_orders)} order(s) did not end")
    return found


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    table = Table(title="Orders across the upgrade")
    for column in (
        "order",
        "style",
        "waited for",
        "placed",
        "current then",
        "ran on",
        "dispatch notice",
        "ok",
    ):
        table.add_column(column)
    for verdict in verdicts:
        order = verdict.order
        ran_on = ", ".join(sorted(set(verdict.builds.values())))
        notice = "with tracking link" if verdict.notice and V2_NOTICE in verdict.notice else "plain"
        table.add_row(
            order.order_id,
            order.placed.style.value,
            order.wait.value,
            order.when,
            order.build_id,
            f"{ran_on} ({len(verdict.builds)} workflows)",
            notice,
            "yes" if not verdict.surprises else "; ".join(verdict.surprises),
        )
    return table
