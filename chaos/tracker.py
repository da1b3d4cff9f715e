"""How the run knows where its orders stand, without asking each one: one read of the orders
register (how each order ended, and when) and one list of the running workflows (who is still
at work, and which orders wait for a person), every second.

An order has *settled* once it has ended or is parked (`needs_attention`: waiting for a person,
which is a legitimate wait), or once the workflow that owns it has closed without recording an
outcome (it never will: the verdict calls it lost, and the run need not wait for it). The run is
*quiet* once every order placed has settled and no workflow is still running but those of
parked or closed orders (an order's last participants may finish after its outcome is recorded,
and the audit must not look before they have).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from chaos.plan import OrderPlan
from chaos.resilience import patiently
from client.orders import lifecycle_workflow_id
from domain import search_attributes
from domain.services import Service
from domain.status import OrderStatus
from stores import store_location
from stores.database import read_only
from stores.orders import OrderRecord, OrdersStore, read_orders

POLL_EVERY = timedelta(seconds=1)

_RUNNING = "ExecutionStatus = 'Running'"


@dataclass(frozen=True)
class RunningWorkflow:
    workflow_id: str
    workflow_type: str
    order_id: str | None
    status: str | None
    """Its `OrderStatus` search attribute (only the workflow that owns the order keeps it)."""


def read_register(data_dir: Path) -> dict[str, OrderRecord]:
    """The orders register as it stands, read through the audit's read-only snapshot."""
    with read_only(
        store_location(data_dir, Service.ORDERS), Service.ORDERS, OrdersStore.SCHEMA
    ) as db:
        return {record.order_id: record for record in read_orders(db)}


class Tracker:
    def __init__(self, client: Client, data_dir: Path, plans: Sequence[OrderPlan]) -> None:
        self._client = client
        self._data_dir = data_dir
        self.plans = {plan.order_id: plan for plan in plans}
        self.placed: set[str] = set()
        self.records: dict[str, OrderRecord] = {}
        self.ended: dict[str, OrderRecord] = {}
        """The run's orders that have recorded an outcome."""
        self.parked: set[str] = set()
        self.closed: set[str] = set()
        """Orders whose owning workflow closed without an outcome."""
        self.running: list[RunningWorkflow] = []
        self._settled = {plan.order_id: asyncio.Event() for plan in plans}
        self._looked = asyncio.Event()

    @property
    def settled(self) -> int:
        return sum(event.is_set() for event in self._settled.values())

    def mark_placed(self, order_id: str) -> None:
        self.placed.add(order_id)

    def is_settled(self, order_id: str) -> bool:
        return self._settled[order_id].is_set()

    @property
    def quiet(self) -> bool:
        """Every order placed has settled, and nothing is still running but what belongs to
        parked orders (waiting for a person) or to orders whose owner closed (lost for good)."""
        waiting = self.parked | self.closed
        return all(self.is_settled(order_id) for order_id in self.placed) and all(
            workflow.order_id in waiting for workflow in self.running
        )

    async def until_settled(self, order_id: str, within: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled[order_id].wait(), max(within, 0.0))
        return self.is_settled(order_id)

    async def until_quiet(self, within: float) -> bool:
        """Whether the run went quiet within `within` seconds (a fresh look decides)."""
        try:
            async with asyncio.timeout(max(within, 0.0)):
                while True:
                    self._looked.clear()
                    await self._looked.wait()
                    if self.quiet:
                        return True
        except TimeoutError:
            return False

    async def run(self) -> None:
        """Look every second until cancelled."""
        while True:
            await self.look()
            await asyncio.sleep(POLL_EVERY.total_seconds())

    async def look(self) -> None:
        # The running workflows first, then the register: a workflow that has closed recorded
        # its outcome (if it did) before, so the register read after it has that outcome.
        self.running = await patiently(self._running_workflows)
        self.records = await asyncio.to_thread(read_register, self._data_dir)
        self.ended = {
            order_id: record
            for order_id, record in self.records.items()
            if record.outcome is not None and order_id in self.plans
        }
        self.parked = {
            workflow.order_id
            for workflow in self.running
            if workflow.order_id in self.plans
            and workflow.status == OrderStatus.NEEDS_ATTENTION
            and workflow.workflow_id == self._owner(workflow.order_id)
        }
        self.closed |= await self._closed_without_outcome()
        for order_id in self.ended.keys() | self.parked | self.closed:
            self._settled[order_id].set()
        self._looked.set()

    async def _closed_without_outcome(self) -> set[str]:
        """Orders not ended whose owner is not listed as running, confirmed by describing it
        (the list can lag behind a workflow just started)."""
        listed = {workflow.workflow_id for workflow in self.running}
        candidates = [
            order_id
            for order_id in self.placed - self.ended.keys() - self.parked - self.closed
            if self._owner(order_id) not in listed
        ]
        return {order_id for order_id in candidates if not await self._owner_runs(order_id)}

    async def _owner_runs(self, order_id: str) -> bool:
        handle = self._client.get_workflow_handle(self._owner(order_id))
        try:
            description = await patiently(handle.describe)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        return description.status == WorkflowExecutionStatus.RUNNING

    def _owner(self, order_id: str) -> str:
        plan = self.plans[order_id]
        return lifecycle_workflow_id(plan.style, order_id)

    async def _running_workflows(self) -> list[RunningWorkflow]:
        return [
            RunningWorkflow(
                workflow_id=execution.id,
                workflow_type=execution.workflow_type,
                order_id=execution.typed_search_attributes.get(search_attributes.ORDER_ID),
                status=execution.typed_search_attributes.get(search_attributes.ORDER_STATUS),
            )
            async for execution in self._client.list_workflows(_RUNNING)
        ]
