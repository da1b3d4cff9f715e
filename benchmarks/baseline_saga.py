"""The baseline `benchmarks.throughput` measures the styles against: the plainest saga with the
happy order's business steps, as a careful engineer would write it in an hour.

One workflow runs eleven activities in a row; each is a real, idempotent SQLite write (`INSERT
OR IGNORE` keyed by order id and step) to its service's small store file, as the project's
stores are one file per service. The compensations (release the stock, void the payment, cancel
the booking) are registered before each step that needs one and run, in reverse, only when a
step before dispatch fails with a business failure (a non-retryable `ApplicationError`). No
search attributes, no updates, no queries, no child workflows, no events: what is left is what
Temporal costs for the business steps alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

QUEUE = "baseline-saga"
SLOTS = 16
"""Activities run at once, each on a thread of the worker's own pool."""
BEFORE_DISPATCH = (
    ("reserve_stock", "release_stock"),
    ("authorize_payment", "void_payment"),
    ("book_shipment", "cancel_booking"),
)
"""Each step before the pivot, with what undoes it."""
AFTER_DISPATCH = ("capture_payment", "consume_stock", "notify_dispatched", "notify_delivered")
STEPS_BY_SERVICE = {
    "orders": ("record_order_placed", "record_order_ended"),
    "notifications": ("notify_received", "notify_dispatched", "notify_delivered"),
    "inventory": ("reserve_stock", "consume_stock", "release_stock"),
    "payments": ("authorize_payment", "capture_payment", "void_payment"),
    "shipping": ("book_shipment", "dispatch", "cancel_booking"),
}
SERVICE_OF = {step: service for service, steps in STEPS_BY_SERVICE.items() for step in steps}
"""Every activity, and the service whose store it writes to."""


@dataclass(frozen=True)
class BaselineOrder:
    order_id: str
    fail_at: str | None = None
    """A step that fails as a business failure would (a decline, no stock): the saga's path."""


class StepStore:
    """One service's SQLite file: a row per order and step, written once however often asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS steps (order_id TEXT NOT NULL, step TEXT NOT NULL, "
                "detail TEXT NOT NULL, PRIMARY KEY (order_id, step))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def record(self, order_id: str, step: str, detail: str = "") -> bool:
        """Whether this call wrote the row (False: an earlier attempt had)."""
        with closing(self._connect()) as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO steps VALUES (?, ?, ?)", (order_id, step, detail)
            )
            return cursor.rowcount == 1


def baseline_activities(data_dir: Path) -> list[Callable[..., bool]]:
    """Every activity of the baseline, over store files in `data_dir`."""
    stores = {name: StepStore(data_dir / f"baseline-{name}.sqlite3") for name in STEPS_BY_SERVICE}

    def step_activity(step: str) -> Callable[..., bool]:
        @activity.defn(name=step)
        def run(order: BaselineOrder, detail: str = "") -> bool:
            if order.fail_at == step:
                raise ApplicationError(
                    f"{step} refused", type="BusinessFailure", non_retryable=True
                )
            return stores[SERVICE_OF[step]].record(order.order_id, step, detail)

        return run

    return [step_activity(step) for step in SERVICE_OF]


@workflow.defn
class BaselineSaga:
    @workflow.run
    async def run(self, order: BaselineOrder) -> str:
        await self._do("record_order_placed", order)
        await self._do("notify_received", order)
        undo: list[str] = []
        try:
            for step, compensation in BEFORE_DISPATCH:
                undo.append(compensation)  # before the step: a step that timed out is undone too
                await self._do(step, order)
            await self._do("dispatch", order)
        except ActivityError:
            for compensation in reversed(undo):
                await self._do(compensation, order)
            return await self._end(order, "cancelled")
        for step in AFTER_DISPATCH:
            await self._do(step, order)
        return await self._end(order, "completed")

    async def _end(self, order: BaselineOrder, outcome: str) -> str:
        await self._do("record_order_ended", order, outcome)
        return outcome

    async def _do(self, step: str, order: BaselineOrder, detail: str = "") -> None:
        await workflow.execute_activity(
            step, args=[order, detail], start_to_close_timeout=timedelta(seconds=10)
        )


def baseline_worker(client: Client, data_dir: Path, executor: ThreadPoolExecutor) -> Worker:
    """The baseline's worker on its own task queue; `executor` needs `SLOTS` threads."""
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[BaselineSaga],
        activities=baseline_activities(data_dir),
        activity_executor=executor,
        max_concurrent_activities=SLOTS,
    )


async def run_baseline_order(client: Client, order_id: str) -> str:
    """Start one baseline order and wait for its outcome (`completed` or `cancelled`)."""
    return await client.execute_workflow(
        BaselineSaga.run, BaselineOrder(order_id), id=f"baseline-{order_id}", task_queue=QUEUE
    )
