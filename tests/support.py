"""Builders, waits and child-process runners shared by the workflow, end-to-end and command
tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from client.orders import PlacedOrder, order_status, wait_for_outcome
from client.scenario_player import wait_for_status
from domain.events.envelope import Party
from domain.faults import Faults
from domain.messages.shipping import CarrierEventKind
from domain.order import Address, Customer, LineItem, Order, OrderTimeouts
from domain.scenarios import Scenario
from domain.services import Service, Style, order_workflow_id, shipment_workflow_id
from domain.status import OrderStatus
from domain.views import OrderOutcome, OrderView
from stores import store_path
from stores.shipping import ShippingStore
from workers.pool import running_workers
from workers.registry import SERVICES

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT_SECONDS = 60.0

PATIENCE = timedelta(seconds=60)
"""How long a test waits for an order or a workflow to end. Every order ends in seconds (the
time-skipping server jumps over the real timers); one that has not ended by then fails its test,
naming where it stands, instead of hanging the suite."""

WINDOW = OrderTimeouts().approval_window
"""The real approval window (24 h): what the time-skipping tests wait out."""
SLACK = timedelta(minutes=1)
"""How much later than its timer a step may be recorded: the activities after the timer run in
real time, milliseconds of it, while the time-skipping server has jumped the hours."""

SMALL_ORDER = (
    LineItem(sku="KB-001", quantity=1, unit_price_cents=8_900),
    LineItem(sku="MS-002", quantity=2, unit_price_cents=2_900),
)
LARGE_ORDER = (LineItem(sku="WS-004", quantity=1, unit_price_cents=249_900),)
ADDRESS = Address(
    recipient="Ada Lovelace",
    line1="12 St James's Square",
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)
TOKEN = "tok_test_4242424242"


def make_order(
    *,
    items: tuple[LineItem, ...] = SMALL_ORDER,
    faults: Faults | None = None,
    timeouts: OrderTimeouts | None = None,
) -> Order:
    """An order with the real timeouts unless told otherwise."""
    return Order(
        order_id=f"test-{uuid.uuid4().hex[:10]}",
        customer=Customer(id="customer-1", email="ada@example.com"),
        items=list(items),
        shipping_address=ADDRESS,
        payment_token=TOKEN,
        timeouts=timeouts or OrderTimeouts(),
        faults=faults or Faults(),
    )


async def reach(
    client: Client, order_id: str, status: OrderStatus, within: timedelta = timedelta(seconds=30)
) -> OrderView:
    await wait_for_status(client, order_id, status, within)
    return await order_status(client, order_id)


async def outcome_of(
    client: Client, placed: PlacedOrder, within: timedelta = PATIENCE
) -> OrderOutcome:
    """The order's outcome, waited for at most `within` (then a failure that says where the
    order stands)."""
    return await wait_for_outcome(client, placed, within)


async def result_of(handle: WorkflowHandle[Any, T], within: timedelta = PATIENCE) -> T:
    """A workflow's result, waited for at most `within`; if it has not ended by then, the
    failure says what it is still doing."""
    try:
        async with asyncio.timeout(within.total_seconds()):
            return await handle.result()
    except TimeoutError:
        description = (await handle.describe()).raw_description
        pending = [activity.activity_type.name for activity in description.pending_activities]
        raise AssertionError(
            f"workflow {handle.id} has not ended within {within}; pending activities: "
            f"{pending or 'none'}"
        ) from None


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ready: Callable[[T], bool],
    *,
    what: str,
    within: timedelta = timedelta(seconds=30),
    every: timedelta = timedelta(milliseconds=50),
) -> T:
    """Ask `probe` until its answer is `ready`; if it never is within the time, fail with `what`
    should have happened and the last answer."""
    answer = await probe()
    try:
        async with asyncio.timeout(within.total_seconds()):
            while not ready(answer):
                await asyncio.sleep(every.total_seconds())
                answer = await probe()
    except TimeoutError:
        raise AssertionError(f"{what}: not within {within}; last: {answer!r}") from None
    return answer


def workflow_ids_of(order_id: str) -> list[str]:
    """Every workflow an order may have, in any style: its orchestrator, the shipment child and
    each participant. Which of them exist depends on the style and on how far the order got."""
    participants = [
        party.workflow_id(order_id)
        for party in Party
        if party.service is not None and party is not Party.ORCHESTRATOR
    ]
    return [order_workflow_id(order_id), shipment_workflow_id(order_id), *participants]


def expected_workflow_ids(scenario: Scenario, style: Style, order_id: str) -> set[str]:
    """The workflows an order of this scenario has in this style, and no others."""
    shipped = scenario.reaches_dispatch
    if style is Style.CHOREOGRAPHED:
        parties = [Party.ORDERS, Party.INVENTORY, Party.PAYMENTS, Party.NOTIFICATIONS]
        return {party.workflow_id(order_id) for party in parties + [Party.SHIPPING] * shipped}
    if style is Style.HYBRID:
        warehouse = [Party.PICKING, Party.PACKING, Party.HANDOFF] * shipped
        return {order_workflow_id(order_id)} | {party.workflow_id(order_id) for party in warehouse}
    return {order_workflow_id(order_id)} | ({shipment_workflow_id(order_id)} if shipped else set())


async def existing_workflows(
    client: Client, order_id: str
) -> dict[str, WorkflowExecutionDescription]:
    """Every workflow the order has (of those `workflow_ids_of` names), described."""
    found: dict[str, WorkflowExecutionDescription] = {}
    for workflow_id in workflow_ids_of(order_id):
        try:
            found[workflow_id] = await client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
    return found


async def status_of_workflow(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The workflow's status; None when there is no such workflow."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description.status


async def closed_status(
    client: Client, workflow_id: str, within: timedelta = timedelta(seconds=15)
) -> WorkflowExecutionStatus | None:
    """The workflow's status once it is no longer running; None if it was never started."""
    return await eventually(
        lambda: status_of_workflow(client, workflow_id),
        lambda status: status is not WorkflowExecutionStatus.RUNNING,
        what=f"{workflow_id} closed",
        within=within,
    )


async def closed_workflows(
    client: Client, order_id: str, within: timedelta = timedelta(seconds=30)
) -> dict[str, WorkflowExecutionDescription]:
    """Every workflow of the order, once none is running any more (an order's outcome can come
    before its last participants have finished their part)."""
    return await eventually(
        lambda: existing_workflows(client, order_id),
        lambda found: all(d.status is not WorkflowExecutionStatus.RUNNING for d in found.values()),
        what=f"every workflow of order {order_id} closed",
        within=within,
    )


@dataclass(frozen=True)
class _Look:
    """What is in flight in the order's workflows at one look, by task queue."""

    in_flight: frozenset[str]
    """The task queues with a workflow task or an activity pending."""
    lengths: dict[str, int]
    """Each workflow's history length."""


QUEUE_OF_ACTIVITY = {
    definition.name: declaration.task_queue
    for declaration in SERVICES.values()
    for member in vars(declaration.activities).values()
    if (definition := getattr(member, "__temporal_activity_definition", None)) is not None
}
"""Each service's activities run on its task queue (`publish_event`, which every service runs,
on the publishing workflow's own). The time-skipping server does not say where a pending
activity was scheduled, so the tests know."""


def _queue_of(activity: PendingActivityInfo, workflow_queue: str) -> str:
    named = activity.activity_options.task_queue.name
    return named or QUEUE_OF_ACTIVITY.get(activity.activity_type.name, workflow_queue)


_WORKFLOW_TASK_ENDS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
)


async def _workflow_task_pending(client: Client, workflow_id: str) -> bool:
    """A workflow task scheduled and not yet ended, read from the history: the time-skipping
    server leaves `pending_workflow_task` out of a workflow's description."""
    events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
    scheduled = sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED for e in events)
    return scheduled > sum(e.event_type in _WORKFLOW_TASK_ENDS for e in events)


async def _look(client: Client, order_id: str) -> _Look:
    queues: set[str] = set()
    lengths: dict[str, int] = {}
    for workflow_id, description in (await existing_workflows(client, order_id)).items():
        raw = description.raw_description
        lengths[workflow_id] = description.history_length
        if description.status is not WorkflowExecutionStatus.RUNNING:
            continue
        if await _workflow_task_pending(client, workflow_id):
            queues.add(description.task_queue)
        queues |= {
            _queue_of(activity, description.task_queue) for activity in raw.pending_activities
        }
    return _Look(frozenset(queues), lengths)


async def at_rest(
    client: Client,
    order_id: str,
    within: timedelta = timedelta(seconds=30),
    *,
    held_by: Service | None = None,
) -> OrderView:
    """The order once nothing of it is in flight (`settled`), and where it stands then."""
    await settled(client, order_id, within, held_by=held_by)
    return await order_status(client, order_id)


async def settled(
    client: Client,
    order_id: str,
    within: timedelta = timedelta(seconds=30),
    *,
    held_by: Service | None = None,
) -> None:
    """Return once nothing of the order is in flight: no activity and no workflow task pending
    in any of its workflows, and no history grown between two looks in a row (a signal sent
    between them would show). What changes it after that is a timer or someone outside (a
    person, the carrier), so a test can take a "before" that nothing in flight will change.

    With `held_by` (a service whose worker is down), the order is held by that service
    instead: work waits on its task queue, and nothing else is in flight. (Held by the orders
    service, whose worker runs the order's lifecycle, the order answers no query.)"""
    held = frozenset({held_by.task_queue}) if held_by else frozenset()
    previous: dict[str, int] | None = None

    async def look() -> tuple[frozenset[str], bool]:
        """The task queues with work in flight, and whether no history grew since last time."""
        nonlocal previous
        seen = await _look(client, order_id)
        unchanged = seen.lengths == previous
        previous = seen.lengths
        return seen.in_flight, unchanged

    what = f"order {order_id} at rest" + (f", held by {held_by.value}" if held_by else "")
    await eventually(look, lambda seen: seen == (held, True), what=what, within=within)


async def admitted(client: Client, workflow_id: str, update_id: str) -> None:
    """The server holds the update for the workflow's next task (no worker has it yet)."""
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(
            workflow_execution=WorkflowExecution(workflow_id=workflow_id), update_id=update_id
        ),
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
        ),
    )

    async def poll() -> bool:
        try:
            await client.workflow_service.poll_workflow_execution_update(
                request, timeout=timedelta(seconds=1)
            )
        except RPCError as error:
            if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.DEADLINE_EXCEEDED):
                return False
            raise
        return True

    await eventually(poll, bool, what=f"update {update_id} admitted")


class ServiceWorkers:
    """Each service's worker started and stopped on its own, as an operator would. Not sticky:
    the time-skipping server would keep a workflow's next task for a stopped worker."""

    def __init__(self, client: Client, data_dir: Path) -> None:
        self._client = client
        self._data_dir = data_dir
        self._running: dict[Service, contextlib.AsyncExitStack] = {}

    async def start(self, *services: Service) -> None:
        for service in services:
            stack = contextlib.AsyncExitStack()
            await stack.enter_async_context(
                running_workers(
                    self._client, [service], self._data_dir, simulate_carrier=False, sticky=False
                )
            )
            self._running[service] = stack

    async def stop(self, *services: Service) -> None:
        for service in services:
            await self._running.pop(service).aclose()

    async def __aenter__(self) -> ServiceWorkers:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop(*list(self._running))


async def carrier_reports(
    client: Client, data_dir: Path, order_id: str, at: datetime, *kinds: CarrierEventKind
) -> None:
    """Play the carrier, in any style: send the reports that dispatch scheduled in the shipping
    store's outbox (one per kind) to the workflow the outbox names, as of `at`."""
    outbox = ShippingStore(store_path(data_dir, Service.SHIPPING)).reports(order_id)
    for kind in kinds:
        due = [report for report in outbox if report.kind is kind]
        assert len(due) == 1, f"order {order_id}: {len(due)} {kind.value} report(s) scheduled"
        report = due[0].to_report().model_copy(update={"at": at})
        await client.get_workflow_handle(due[0].workflow_id).signal(due[0].signal_name, report)


async def until_dispatched(env: WorkflowEnvironment, client: Client, order: Order) -> None:
    """Let the warehouse's (real, two-hour) handling time pass and the parcel leave."""
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)
    await env.sleep(order.timeouts.handling_time)
    await reach(client, order.order_id, OrderStatus.DISPATCHED)


# -- commands in child processes ------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def user_env(address: str, namespace: str, data_dir: Path) -> dict[str, str]:
    """The environment a user would export: this one without its own `TEMPORAL_*` settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}
    return {
        **env,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "ORDERS_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }


async def start_module(
    env: dict[str, str], *args: str, own_group: bool = False
) -> asyncio.subprocess.Process:
    """`python -m *args` in a child process from the project root, its output piped; with
    `own_group`, in a process group of its own (so that its children can be killed with it)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=own_group,
    )


async def run_module(
    env: dict[str, str], *args: str, within_seconds: float = COMMAND_TIMEOUT_SECONDS
) -> Result:
    """Run `python -m *args` to its end without blocking the event loop in-process workers
    need."""
    process = await start_module(env, *args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), within_seconds)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


def one_line_error(result: Result, expected_code: int, *fragments: str) -> str:
    """A refused command prints one line that says what and why, and no traceback; the line."""
    assert result.code == expected_code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


CHOSEN_PORTS = range(20000, 32768)
"""Where a test picks the port it gives a server of its own (the demo's, a worker's metrics):
below the kernel's ephemeral range (32768 and up on Linux), from which every `bind(0)` draws,
the SDK's and the dev server's own included. A port the kernel handed out and took back could
be handed to a server of a parallel test process before this test's server binds it (seen: the
demo found its port answering as another test's Temporal server)."""


def free_port() -> int:
    """A port nothing listens on now, out of the kernel's ephemeral range (`CHOSEN_PORTS`)."""
    chooser = random.SystemRandom()
    while True:
        port = chooser.choice(CHOSEN_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
